import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { mandateEnv, PROCESS_TIMEOUT_MS, runCli, runCliJson, type ServerProcess, startServerProcess } from '../helpers/processes.ts';

/** Debian's interpreter: the packaged modules are installed for it, not for whatever `python3` is first on PATH. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/authlib-jwcrypto.py', import.meta.url));
const PACKAGES = 'python3-authlib python3-jwcrypto python3-requests';
const probe = spawnSync(PYTHON, ['-c', 'import authlib.integrations.requests_client, authlib.oauth2.rfc8414, jwcrypto.jwt'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `${PYTHON} cannot import authlib and jwcrypto (apt-get install -y ${PACKAGES})`;

type Alg = 'ES256' | 'EdDSA';
type Method = 'client_secret_basic' | 'client_secret_post';

interface MethodResult {
  access_token: string;
  token: { token_type: string; scope: string; expires_in: number };
  introspection: Record<string, unknown>;
  introspection_status: number;
  revocation_status: number;
  introspection_after_revocation: Record<string, unknown>;
  calls: { url: string; status: number; basic: boolean; secret_in_body: boolean }[];
  jwt: { header: Record<string, string>; claims: Record<string, unknown> };
  tampered_signature_rejected: boolean;
}

/** What test/interop/python/authlib-jwcrypto.py prints. */
interface PythonResult {
  versions: { authlib: string; jwcrypto: string };
  metadata: { status: number; content_type: string; issuer: string; validation_error: string | null };
  jwks: { kid: string; kty: string; crv: string | null; alg: string }[];
  methods: Record<Method, MethodResult>;
  earlier_tokens: { header: Record<string, string> }[];
}

interface ScriptInput {
  issuer: string;
  client_id: string;
  client_secret: string;
  resource: string;
  scope: string;
  alg: Alg;
  earlier_tokens?: { token: string; alg: Alg }[];
}

async function runPython(input: ScriptInput): Promise<PythonResult> {
  // A bare environment: no proxy variables for `requests` to route loopback calls through, no PYTHONPATH.
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, JSON.stringify(input)], {
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    timeout: PROCESS_TIMEOUT_MS,
  });
  return JSON.parse(stdout) as PythonResult;
}

const METHODS: Method[] = ['client_secret_basic', 'client_secret_post'];

/**
 * Python clients nobody here wrote, against `mandate serve` running as its own process and set up through the CLI:
 * authlib (RFC 8414 metadata validation, client_credentials with client_secret_basic and client_secret_post, RFC 7662
 * introspection, RFC 7009 revocation) and jwcrypto (RFC 9068 access tokens checked against our JWKS, ES256 and,
 * after `mandate keys rotate` with MANDATE_SIGNING_ALG=EdDSA, EdDSA). Skipped with the reason when Debian's packages
 * are missing.
 */
forEachStore('interop: Python authlib and jwcrypto', (fixture) => {
  const resource = 'https://mcp.example.com/mcp';
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess;
  let agent: { client_id: string; client_secret: string };
  let es256: PythonResult;

  const input = (alg: Alg): ScriptInput => ({ issuer: server.issuer, ...agent, resource, scope: 'files:read', alg });

  before(async () => {
    if (skip) return;
    env = mandateEnv(fixture.url);
    await runCliJson(['resource', 'create', '--uri', resource, '--scope', 'calc files:read'], env);
    agent = await runCliJson(['agent', 'create', '--name', 'python agent', '--scope', 'calc files:read', '--audience', resource], env);
    server = await startServerProcess(await freePort(), env);
    es256 = await runPython(input('ES256'));
  });
  after(() => server?.stop());

  test('ASM-01 authlib validates our RFC 8414 metadata; 200 application/json, issuer equals the URL it came from', { skip }, () => {
    assert.equal(es256.metadata.status, 200);
    assert.match(es256.metadata.content_type, /^application\/json/);
    assert.equal(es256.metadata.issuer, server.issuer);
    assert.equal(es256.metadata.validation_error, null);
  });

  test('authlib client_credentials with client_secret_basic and with client_secret_post: token, introspection, revocation', { skip }, () => {
    for (const method of METHODS) {
      const result = es256.methods[method];
      // Each of the four calls (token, introspect, revoke, introspect) authenticated the way the method says.
      assert.equal(result.calls.length, 4, method);
      for (const call of result.calls) {
        assert.equal(call.status, 200, `${method} ${call.url}`);
        assert.equal(call.basic, method === 'client_secret_basic', `${method} ${call.url}`);
        assert.equal(call.secret_in_body, method === 'client_secret_post', `${method} ${call.url}`);
      }
      assert.equal(result.token.token_type, 'Bearer');
      assert.equal(result.token.scope, 'files:read');
      assert.equal(result.introspection.active, true);
      assert.equal(result.introspection.sub, agent.client_id);
      assert.equal(result.introspection.client_id, agent.client_id);
      assert.equal(result.introspection.aud, resource);
      assert.equal(result.introspection.scope, 'files:read');
      assert.equal(result.revocation_status, 200);
    }
  });

  test('IN-02 after authlib revokes the token (RFC 7009), introspection answers only {"active": false}', { skip }, () => {
    for (const method of METHODS) assert.deepEqual(es256.methods[method].introspection_after_revocation, { active: false }, method);
  });

  test('AT-08 jwcrypto verifies the ES256 access tokens against our JWKS: typ at+jwt, iss, aud, exp and the required claims', { skip }, () => {
    assert.deepEqual(es256.jwks.map((key) => [key.kty, key.crv, key.alg]), [['EC', 'P-256', 'ES256']]);
    for (const method of METHODS) {
      const { jwt, tampered_signature_rejected } = es256.methods[method];
      assert.equal(jwt.header.alg, 'ES256');
      assert.equal(jwt.header.typ, 'at+jwt');
      assert.equal(jwt.header.kid, es256.jwks[0]!.kid);
      for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) assert.ok(claim in jwt.claims, `${method}: ${claim}`);
      assert.equal(jwt.claims.iss, server.issuer);
      assert.equal(jwt.claims.aud, resource);
      assert.ok((jwt.claims.exp as number) > Date.now() / 1000);
      assert.equal(tampered_signature_rejected, true, 'jwcrypto rejects a token whose signature was altered');
    }
  });

  test('AT-08 after `mandate keys rotate` to EdDSA, jwcrypto verifies new EdDSA tokens and the earlier ES256 one', { skip }, async () => {
    await server.stop();
    const eddsaEnv = { ...env, MANDATE_SIGNING_ALG: 'EdDSA' };
    await runCli(['keys', 'rotate', '--publish-ahead', '0'], eddsaEnv);
    // Same port, so the issuer (and the earlier token's `iss`) stays the same.
    server = await startServerProcess(Number(new URL(server.issuer).port), eddsaEnv);
    const earlier = es256.methods.client_secret_basic.access_token;
    const eddsa = await runPython({ ...input('EdDSA'), earlier_tokens: [{ token: earlier, alg: 'ES256' }] });

    // The retired ES256 key stays published next to the new Ed25519 key, and jwcrypto picks each by `kid`.
    assert.deepEqual(eddsa.jwks.map((key) => [key.kty, key.crv, key.alg]).sort(), [['EC', 'P-256', 'ES256'], ['OKP', 'Ed25519', 'EdDSA']]);
    const ed25519Kid = eddsa.jwks.find((key) => key.alg === 'EdDSA')!.kid;
    for (const method of METHODS) {
      const { jwt, tampered_signature_rejected, introspection } = eddsa.methods[method];
      assert.equal(jwt.header.alg, 'EdDSA');
      assert.equal(jwt.header.typ, 'at+jwt');
      assert.equal(jwt.header.kid, ed25519Kid);
      assert.equal(jwt.claims.iss, server.issuer);
      assert.equal(jwt.claims.aud, resource);
      assert.equal(tampered_signature_rejected, true);
      assert.equal(introspection.active, true);
    }
    assert.deepEqual(eddsa.earlier_tokens.map((t) => [t.header.alg, t.header.kid]), [['ES256', es256.jwks[0]!.kid]]);
  });
});
