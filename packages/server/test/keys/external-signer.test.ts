import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startServer } from '../../src/server.ts';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { createTestDatabase, forEachStore } from '../helpers/stores.ts';

/**
 * Issue 14 item 5 over real HTTP on both stores: the private signing keys live in an external signer (here a KMS
 * stand-in in a process of its own, reached through a module as an operator would write one for their KMS), never
 * in Mandate's database; rotation makes new keys there; a signer that is down answers 503, not 500.
 */
const signerProcess = fileURLToPath(new URL('../helpers/external-signer/signer-process.ts', import.meta.url));
const signerModule = fileURLToPath(new URL('../helpers/external-signer/signer-module.ts', import.meta.url));

/** Starts the signer process; ready when it prints its port (a signal, not a sleep). */
async function startSigner(): Promise<{ url: string; child: ChildProcess; call(path: string, body?: unknown): Promise<Record<string, unknown>> }> {
  const child = spawn(process.execPath, [signerProcess], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the signer exited with ${code}`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const call = async (path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await response.json()) as Record<string, unknown>;
  };
  return { url, child, call };
}

forEachStore('external signer (KMS/HSM)', (fixture) => {
  let signer: Awaited<ReturnType<typeof startSigner>>;
  let server: TestServer;
  let agent: Awaited<ReturnType<typeof registerAgentAndResource>>;
  before(async () => {
    signer = await startSigner();
    server = await startTestServer(fixture, { keys: { externalSigner: { module: signerModule, options: { url: signer.url } }, publishAheadSeconds: 0 } });
    agent = await registerAgentAndResource(server);
  });
  after(async () => {
    await server.close();
    signer.child.kill('SIGTERM');
    if (signer.child.exitCode === null) await once(signer.child, 'exit');
  });

  const tokenResponse = () => server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });

  test('KEY-EXT-01 every key is made and used by the external signer: tokens verify under the JWKS, the database holds no private key', async () => {
    const response = await tokenResponse();
    assert.equal(response.status, 200, await response.clone().text());
    const token = ((await response.json()) as { access_token: string }).access_token;
    const jwks = createLocalJWKSet((await (await fetch(`${server.issuer}/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0]);
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: server.issuer, typ: 'at+jwt' });
    assert.equal(payload['client_id'], agent.clientId);

    const records = await fixture.store.listSigningKeys();
    assert.equal(records.length, 1);
    assert.equal(records[0]!.kid, protectedHeader.kid);
    assert.equal(records[0]!.privateKeyEncrypted, '', 'no private key material in the database');
    assert.match(records[0]!.externalKeyRef ?? '', /^hsm-key-/);
    assert.equal(server.context.keys.active.privateKey, null, 'no private key in Mandate’s memory either');
    const stats = await signer.call('/stats');
    assert.ok((stats['signatures'] as number) >= 2, 'the probe at creation and the token');
  });

  test('KEY-EXT-02 a rotation through the admin API makes the new key in the signer, and it signs the next tokens', async () => {
    const before = (await signer.call('/stats'))['keys'] as number;
    const rotated = await server.admin('POST', '/keys/rotate', { publish_ahead_seconds: 0 });
    assert.equal(rotated.status, 200, await rotated.clone().text());
    const { kid, retired_kid } = (await rotated.json()) as { kid: string; retired_kid: string };
    assert.equal((await signer.call('/stats'))['keys'], before + 1);
    const token = ((await (await tokenResponse()).json()) as { access_token: string }).access_token;
    assert.equal(decodeJwt(token).header['kid'], kid);
    const published = ((await (await fetch(`${server.issuer}/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    assert.deepEqual(published, [kid, retired_kid], 'the retired key stays published');
  });

  test('KEY-EXT-03 the signer refusing: 503 temporarily_unavailable with Retry-After, no token and no token.issued row; back, tokens again', async () => {
    const issuedBefore = (await fixture.store.listAuditRows({ event: 'token.issued', limit: 100_000 })).length;
    await signer.call('/mode', { mode: 'refuse' });
    try {
      const refused = await tokenResponse();
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(refused.headers.get('cache-control'), 'no-store');
      assert.equal(((await refused.json()) as { error: string }).error, 'temporarily_unavailable');
      const rotation = await server.admin('POST', '/keys/rotate', { publish_ahead_seconds: 0 });
      assert.equal(rotation.status, 503, 'no key can be made either');
      assert.equal(((await rotation.json()) as { type: string }).type, 'urn:mandate:problem:unavailable');
    } finally {
      await signer.call('/mode', { mode: 'normal' });
    }
    await server.context.audit.flush();
    assert.equal((await fixture.store.listAuditRows({ event: 'token.issued', limit: 100_000 })).length, issuedBefore);
    assert.equal((await tokenResponse()).status, 200);
  });

  test('KEY-EXT-04 a signer whose signatures do not verify under the key it returned, or a module without createKeySigner, stops the start with a clear error', async () => {
    const other = await startSigner();
    // A fresh database: the first key is made at start, by the signer.
    const database = await createTestDatabase(fixture.dialect);
    try {
      await other.call('/mode', { mode: 'wrong-key' });
      const base = { port: 0, databaseUrl: database.url, logLevel: 'silent' as const };
      const kek = randomBytes(32).toString('base64url');
      await assert.rejects(
        startServer({ ...base, keys: { kek, externalSigner: { module: signerModule, options: { url: other.url } } } }),
        /does not verify under the public key it returned/,
      );
      await assert.rejects(
        startServer({ ...base, keys: { kek, externalSigner: { module: fileURLToPath(new URL('../helpers/server.ts', import.meta.url)), options: {} } } }),
        /does not export a createKeySigner\(options\) function/,
      );
    } finally {
      other.child.kill('SIGTERM');
      await database.drop();
    }
  });
});
