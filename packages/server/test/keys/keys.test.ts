import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loadKek } from '../../src/keys/kek.ts';
import { localKeyCustody } from '../../src/keys/key-custody.ts';
import { createAgent } from '../../src/management/agents.ts';
import { createResource } from '../../src/management/resources.ts';
import { KeyRing } from '../../src/keys/key-ring.ts';
import { openStore } from '../../src/store/open-store.ts';
import { startServer } from '../../src/server.ts';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('signing keys', (fixture) => {
  let server: TestServer;
  const kek = randomBytes(32).toString('base64url');
  before(async () => {
    server = await startTestServer(fixture, { keys: { kek } });
  });
  after(() => server.close());

  const jwks = async () => ((await (await fetch(`${server.issuer}/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  test('private keys are encrypted at rest: the stored key holds no JWK private member and no PKCS#8 in the clear', async () => {
    const [record] = await fixture.store.listSigningKeys();
    assert.ok(record);
    assert.match(record.privateKeyEncrypted, /^v1\.[A-Za-z0-9_-]+$/);
    assert.equal((record.publicJwk as Record<string, unknown>)['d'], undefined);
    const exported = server.context.keys.active.privateKey!.export({ format: 'der', type: 'pkcs8' });
    assert.ok(!Buffer.from(record.privateKeyEncrypted.slice(3), 'base64url').includes(exported.subarray(-32)), 'private scalar not in the ciphertext');
  });

  test('a different KEK cannot open the keys: startup fails with a clear error', async () => {
    await assert.rejects(
      startServer({ port: 0, databaseUrl: fixture.url, logLevel: 'silent', keys: { kek: randomBytes(32).toString('base64url') } }),
      /does not decrypt with this key-encryption key/,
    );
  });

  test('rotation: the new key signs, the old stays in the JWKS and its tokens stay valid until they expire', async () => {
    const agent = await registerAgentAndResource(server);
    const issue = async () => {
      const response = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const oldKid = server.context.keys.active.kid;
    const oldToken = await issue();

    // Rotate as `mandate keys rotate` does from another process: straight on the store, with the KEK.
    const store = await openStore(fixture.url);
    const ring = await KeyRing.open(store, localKeyCustody(loadKek({ kek, kekFile: '' })), 'ES256', server.clock.now);
    const rotated = await ring.rotate('ES256', 3600);
    await store.close();
    assert.equal(rotated.retiredKid, oldKid);

    await server.context.keys.reload();
    const published = await jwks();
    assert.equal(published[0], rotated.kid, 'the new key comes first');
    assert.ok(published.includes(oldKid), 'the retired key stays published');
    const newToken = await issue();
    assert.notEqual(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid, oldKid);
    for (const token of [oldToken, newToken]) {
      const response = await server.postForm('/introspect', { token }, { authorization: `Bearer ${agent.apiKey}` });
      assert.equal(((await response.json()) as { active: boolean }).active, true);
    }

    server.clock.advance(3601);
    try {
      const later = await jwks();
      assert.equal(later[0], rotated.kid);
      assert.ok(!later.includes(oldKid), 'the retired key leaves the JWKS once its tokens have expired');
    } finally {
      server.clock.advance(-3601);
    }
  });

  test('the admin API rotates too, and the JWKS Cache-Control never outlives a retiring key', async () => {
    const response = await server.admin('POST', '/keys/rotate');
    assert.equal(response.status, 200);
    const { kid } = (await response.json()) as { kid: string };
    const published = await jwks();
    assert.ok(published.includes(kid) && published[0] !== kid, 'published ahead (SR-08): in the JWKS, not signing yet');
    const cacheControl = (await fetch(`${server.issuer}/jwks.json`)).headers.get('cache-control');
    assert.match(cacheControl ?? '', /^public, max-age=\d+$/);
  });

  test('EdDSA and RS256 servers issue tokens their JWKS verifies', async () => {
    for (const algorithm of ['EdDSA', 'RS256'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'mandate-alg-'));
      const other = await startServer({ port: 0, databaseUrl: `sqlite:${join(dir, 'm.db')}`, logLevel: 'silent', keys: { algorithm, kekFile: join(dir, 'kek') } });
      try {
        assert.equal(statSync(join(dir, 'kek')).mode & 0o777, 0o600, 'generated KEK file is private');
        const deps = { store: other.store, audit: other.context.audit, config: other.config, now: other.context.now(), actor: 'test' };
        await createResource({ resource: 'https://api.example.com', scopes: ['read'] }, deps);
        const { agent, clientSecret } = await createAgent({ name: 'a', scopes: ['read'], audiences: ['https://api.example.com'] }, deps);
        const response = await fetch(`${other.issuer}/token`, {
          method: 'POST',
          headers: { authorization: basicAuth(agent.client_id, clientSecret!), 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        });
        const { access_token } = (await response.json()) as { access_token: string };
        const jwks = await (await fetch(`${other.issuer}/jwks.json`)).json();
        const { protectedHeader } = await jwtVerify(access_token, createLocalJWKSet(jwks as never), { issuer: other.issuer, audience: 'https://api.example.com', typ: 'at+jwt' });
        assert.equal(protectedHeader.alg, algorithm);
      } finally {
        await other.close();
      }
    }
  });
});
