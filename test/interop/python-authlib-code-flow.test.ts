import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import { mandateEnv, PROCESS_TIMEOUT_MS, runCliJson, type ServerProcess, startServerProcess } from '../helpers/processes.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

/** Debian's interpreter: the packaged modules are installed for it, not for whatever `python3` is first on PATH. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/authlib-code-flow.py', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import authlib.integrations.requests_client, jwcrypto.jwt'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `${PYTHON} cannot import authlib and jwcrypto (apt-get install -y python3-authlib python3-jwcrypto python3-requests)`;

/** What test/interop/python/authlib-code-flow.py prints last. */
interface CodeFlowResult {
  token: { token_type: string; scope: string; expires_in: number };
  has_refresh_token: boolean;
  userinfo_status: number;
  userinfo: Record<string, unknown>;
  id_token_claims: Record<string, unknown>;
}

/**
 * Runs the script: when it prints the authorization URL, the user signs in and consents through the real pages (as
 * a browser), and the redirect back to the client is handed to Authlib on stdin. Killed after PROCESS_TIMEOUT_MS.
 */
function runAuthlib(input: { issuer: string; client_id: string; redirect_uri: string; scope: string }, email: string): Promise<CodeFlowResult> {
  return new Promise((resolve, reject) => {
    // A bare environment: no proxy variables for `requests`; plain http is allowed for the loopback server only.
    const child = spawn(PYTHON, [SCRIPT, JSON.stringify(input)], { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', AUTHLIB_INSECURE_TRANSPORT: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
    let stderr = '';
    let result: CodeFlowResult | undefined;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { authorization_url?: string } & Partial<CodeFlowResult>;
      if (message.authorization_url === undefined) {
        result = message as CodeFlowResult;
        return;
      }
      signInAndConsent(message.authorization_url, { email }).then(
        ({ location }) => child.stdin.end(`${location}\n`),
        (error: unknown) => {
          child.kill('SIGTERM');
          reject(error);
        },
      );
    });
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && result) resolve(result);
      else reject(new Error(`authlib-code-flow.py exited ${code}:\n${stderr}`));
    });
  });
}

/**
 * Python Authlib (Debian's python3-authlib) as an OpenID relying party that sends no `resource`: discovery, the
 * authorization code flow with PKCE S256 as a public client, then /userinfo with the access token; jwcrypto checks
 * the ID token. Once asking only for identity scopes (a token for userinfo), once with a resource scope too (a token
 * for the client's single audience that userinfo also accepts, because it was granted `openid`). `mandate serve`
 * runs as its own process, set up through the CLI. Skipped with the reason when Debian's packages are missing.
 */
forEachStore('interop: Python Authlib code flow without resource', (fixture) => {
  const resource = 'https://mcp.example.com/mcp';
  const email = 'ada@example.com';
  const redirectUri = 'http://127.0.0.1:8765/callback';
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess;
  let userId: string;

  before(async () => {
    if (skip) return;
    env = mandateEnv(fixture.url);
    userId = (await runCliJson<{ id: string }>(['user', 'create', '--email', email, '--name', 'Ada Lovelace'], env, `${PASSWORD}\n`)).id;
    await runCliJson(['resource', 'create', '--uri', resource, '--scope', 'calc files:read'], env);
    server = await startServerProcess(await freePort(), env);
  });
  after(() => server?.stop());

  const publicClient = (scope: string) =>
    runCliJson<{ client_id: string }>(['client', 'create', '--name', 'Authlib', '--public', '--redirect-uri', redirectUri, '--scope', scope, '--audience', resource], env);

  test('MCP-AS-01 OIDC Core §5.3 code + PKCE with openid email and no resource, then userinfo', { skip }, async () => {
    const client = await publicClient('calc');
    const result = await runAuthlib({ issuer: server.issuer, client_id: client.client_id, redirect_uri: redirectUri, scope: 'openid email' }, email);
    assert.equal(result.token.token_type, 'Bearer');
    assert.equal(result.token.scope, 'openid email');
    assert.equal(result.userinfo_status, 200);
    assert.deepEqual(result.userinfo, { sub: userId, email, email_verified: true });
    assert.equal(result.id_token_claims['sub'], userId);
    assert.equal(result.id_token_claims['email'], email);
  });

  test('MCP-AS-01 code + PKCE with openid email calc and no resource: the client’s single audience, and userinfo still answers', { skip }, async () => {
    const client = await publicClient('calc');
    const result = await runAuthlib({ issuer: server.issuer, client_id: client.client_id, redirect_uri: redirectUri, scope: 'openid email calc' }, email);
    assert.equal(result.token.scope, 'openid email calc');
    assert.equal(result.has_refresh_token, false, 'no offline_access, no refresh token');
    assert.equal(result.userinfo_status, 200);
    assert.deepEqual(result.userinfo, { sub: userId, email, email_verified: true });
  });
});
