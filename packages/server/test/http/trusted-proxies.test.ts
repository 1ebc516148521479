import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError, configFromEnvironment, resolveConfig } from '../../src/config.ts';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createUser, inputValue } from '../helpers/user-flow.ts';

test('SR-09 MANDATE_TRUST_PROXY takes proxy addresses, CIDRs or a hop count, never "true"', () => {
  const trust = (value: string) => resolveConfig(configFromEnvironment({ MANDATE_TRUST_PROXY: value })).http.trustProxy;
  assert.deepEqual(trust('10.0.0.0/8, ::1,loopback'), ['10.0.0.0/8', '::1', 'loopback']);
  assert.equal(trust('2'), 2);
  assert.equal(trust('false'), false);
  assert.equal(resolveConfig(configFromEnvironment({})).http.trustProxy, false);
  assert.throws(() => trust('true'), (err: Error) => err instanceof ConfigError && /client-written X-Forwarded-For/.test(err.message));
  for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1', '0', '11']) {
    assert.throws(() => trust(bad), (err: Error) => err instanceof ConfigError && /http\.trustProxy/.test(err.message), bad);
  }
});

/**
 * The test client plays the proxy (it connects from 127.0.0.1) and writes X-Forwarded-For itself: its left-most
 * entries are what a client behind an appending proxy would forge, the right-most one what the proxy appended.
 */
forEachStore('SR-09 trusted proxies', (fixture) => {
  // Servers in turn on one database: one KEK for all of them.
  const kek = randomBytes(32).toString('base64url');
  async function withServer(overrides: Parameters<typeof startTestServer>[1], fn: (server: TestServer) => Promise<void>) {
    const server = await startTestServer(fixture, { ...overrides, keys: { kek } });
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  }

  async function issuedFrom(server: TestServer, forwardedFor: string | undefined): Promise<string | null> {
    const agent = await registerAgentAndResource(server);
    const headers: Record<string, string> = { authorization: basicAuth(agent.clientId, agent.clientSecret) };
    if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
    assert.equal((await server.postForm('/token', { grant_type: 'client_credentials' }, headers)).status, 200);
    const [row] = await server.store.listAuditRows({ event: 'token.issued', clientId: agent.clientId, limit: 1 });
    return row!.ip;
  }

  test('SR-09 the audited address is the right-most untrusted one, whatever a client forges to its left', async () => {
    await withServer({ http: { trustProxy: ['127.0.0.1'] } }, async (server) => {
      assert.equal(await issuedFrom(server, '203.0.113.9, 198.51.100.7'), '198.51.100.7');
      assert.equal(await issuedFrom(server, '198.51.100.7'), '198.51.100.7');
      assert.equal(await issuedFrom(server, undefined), '127.0.0.1');
    });
    await withServer({ http: { trustProxy: ['10.0.0.0/8'] } }, async (server) => {
      assert.equal(await issuedFrom(server, '203.0.113.9, 198.51.100.7'), '127.0.0.1', 'a peer that is not a trusted proxy speaks for itself');
    });
    await withServer({ http: { trustProxy: false } }, async (server) => {
      assert.equal(await issuedFrom(server, '203.0.113.9'), '127.0.0.1');
    });
  });

  test('SR-09 a hop count trusts that many proxies from the server outwards', async () => {
    await withServer({ http: { trustProxy: 1 } }, async (server) => {
      assert.equal(await issuedFrom(server, '203.0.113.9, 198.51.100.7'), '198.51.100.7');
    });
    await withServer({ http: { trustProxy: 2 } }, async (server) => {
      assert.equal(await issuedFrom(server, '203.0.113.9, 198.51.100.7, 10.0.0.2'), '198.51.100.7');
    });
  });

  test('SR-09 the per-address rate limit counts the proxied client, not the forged entries', async () => {
    await withServer({ http: { trustProxy: ['loopback'] }, rateLimit: { tokenPerIpPerMinute: 3 } }, async (server) => {
      const agent = await registerAgentAndResource(server);
      const token = (forwardedFor: string) =>
        server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret), 'x-forwarded-for': forwardedFor });
      for (let i = 0; i < 3; i++) assert.equal((await token(`192.0.2.${i}, 198.51.100.7`)).status, 200);
      const limited = await token('192.0.2.99, 198.51.100.7');
      assert.equal(limited.status, 429, 'a fresh forged left-most entry does not escape the limit');
      assert.equal((await token('198.51.100.8')).status, 200, 'another client behind the proxy is not limited');
    });
  });

  test('SR-09 login throttling and its audit rows use the proxied client address', async () => {
    await withServer({ http: { trustProxy: ['127.0.0.1', '::1'] }, users: { ipFreeFailures: 2, baseLockSeconds: 600 } }, async (server) => {
      await createUser(server, 'ida@example.com');
      const attempt = async (forwardedFor: string, email: string) => {
        const browser = new Browser();
        const page = await (await browser.fetch(`${server.issuer}/login`, { headers: { 'x-forwarded-for': forwardedFor } })).text();
        return browser.fetch(`${server.issuer}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
          body: new URLSearchParams({ csrf: inputValue(page, 'csrf'), return_to: '/account', email, password: 'a wrong password' }).toString(),
        });
      };
      // Each guess comes with a new forged left-most address, as one attacker behind the proxy would send them.
      for (let i = 0; i < 2; i++) assert.equal((await attempt(`192.0.2.${i}, 198.51.100.7`, 'nobody@example.com')).status, 401);
      assert.equal((await attempt('192.0.2.50, 198.51.100.7', 'nobody@example.com')).status, 429, 'the address is locked, forged entries or not');
      assert.equal((await attempt('198.51.100.8', 'ida@example.com')).status, 401, 'another client behind the proxy is not');
      const failures = await server.store.listAuditRows({ event: 'login.failed', limit: 10 });
      assert.ok(failures.length >= 2, 'one row per client address and minute, the rest counted');
      assert.ok(failures.every((row) => row.ip === '198.51.100.7' || row.ip === '198.51.100.8'), JSON.stringify(failures.map((r) => r.ip)));
      const throttled = await server.store.listAuditRows({ event: 'login.throttled', limit: 1 });
      assert.equal(throttled[0]?.ip, '198.51.100.7');
    });
  });
});
