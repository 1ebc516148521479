import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser } from '../../packages/server/test/helpers/user-flow.ts';
import { PROCESS_TIMEOUT_MS } from '../helpers/processes.ts';

/** Debian's interpreter: the packaged modules are installed for it, not for whatever `python3` is first on PATH. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/authlib-par.py', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import authlib.integrations.requests_client, authlib.oauth2.rfc7523'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `${PYTHON} cannot import authlib (apt-get install -y python3-authlib python3-requests)`;
const REDIRECT = 'https://app.example.com/callback';

interface Pushed {
  authorization_url: string;
  pushed: { status: number; body: { request_uri: string; expires_in: number }; cache_control: string | null };
}
interface Redeemed {
  token: { token_type: string; scope: string; expires_in: number };
  has_access_token: boolean;
}

/**
 * Python Authlib (Debian's python3-authlib) as a confidential client with its own private_key_jwt: it pushes the
 * authorization request to /par (RFC 9126; its assertion's audience is the PAR endpoint URL, §2), the browser goes
 * through /authorize with client_id and request_uri only (the test plays it: login and consent over HTTP), and
 * Authlib redeems the code with PKCE and private_key_jwt at the token endpoint.
 */
forEachStore('interop: Python Authlib pushes its authorization request (RFC 9126)', (fixture) => {
  let server: TestServer;

  before(async () => {
    if (skip) return;
    server = await startTestServer(fixture);
    await registerAgentAndResource(server, {}, MCP_RESOURCE);
    await createUser(server, 'ada@example.com');
  });
  after(async () => {
    if (!skip) await server.close();
  });

  function runAuthlib(input: Record<string, string>): Promise<{ pushed: Pushed; redeemed: Redeemed }> {
    return new Promise((resolve, reject) => {
      const child = spawn(PYTHON, [SCRIPT, JSON.stringify(input)], { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', AUTHLIB_INSECURE_TRANSPORT: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
      let stderr = '';
      let pushed: Pushed | undefined;
      let redeemed: Redeemed | undefined;
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const message = JSON.parse(line) as Partial<Pushed> & Partial<Redeemed>;
        if (message.authorization_url === undefined) {
          redeemed = message as Redeemed;
          return;
        }
        pushed = message as Pushed;
        authorizeInBrowser(server, new Browser(), Object.fromEntries(new URL(message.authorization_url).searchParams)).then(
          ({ response }) => child.stdin.end(`${response.headers.get('location')}\n`),
          (error: unknown) => {
            child.kill('SIGTERM');
            reject(error);
          },
        );
      });
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0 && pushed && redeemed) resolve({ pushed, redeemed });
        else reject(new Error(`authlib-par.py exited ${code}:\n${stderr}`));
      });
    });
  }

  test('PAR-01 Authlib with private_key_jwt: 201 request_uri, the browser through client_id + request_uri, the code redeemed', { skip }, async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { x, y } = publicKey.export({ format: 'jwk' });
    const app = await createApp(server, { name: 'Authlib App', scopes: ['calc'], audiences: [MCP_RESOURCE], jwks: { keys: [{ kty: 'EC', crv: 'P-256', x, y, alg: 'ES256' }] } });
    const { pushed, redeemed } = await runAuthlib({
      issuer: server.issuer,
      client_id: app.clientId,
      private_key_pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      redirect_uri: REDIRECT,
      scope: 'calc',
      resource: MCP_RESOURCE,
    });
    assert.equal(pushed.pushed.status, 201, JSON.stringify(pushed.pushed.body));
    assert.match(pushed.pushed.body.request_uri, /^urn:ietf:params:oauth:request_uri:/);
    assert.equal(pushed.pushed.body.expires_in, 60);
    assert.equal(pushed.pushed.cache_control, 'no-store');
    assert.deepEqual([...new URL(pushed.authorization_url).searchParams.keys()].sort(), ['client_id', 'request_uri']);
    assert.equal(redeemed.has_access_token, true);
    assert.equal(redeemed.token.token_type, 'Bearer');
    assert.equal(redeemed.token.scope, 'calc');
  });
});
