import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { admitLoginAttempt, type AttemptCounters, type LoginThrottlePolicy } from '../../src/policy/login-throttle.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

const policy: LoginThrottlePolicy = {
  account: { freeFailures: 3, baseLockSeconds: 10, maxLockSeconds: 100 },
  address: { freeFailures: 5, baseLockSeconds: 10, maxLockSeconds: 100 },
  windowSeconds: 600,
};
const counters = (account: number, address: number, pair: number, lockedUntil: [number, number] = [0, 0]): AttemptCounters => [
  { key: 'account:a', failures: account, lockedUntil: lockedUntil[0], updatedAt: 1000 },
  { key: 'ip:x', failures: address, lockedUntil: lockedUntil[1], updatedAt: 1000 },
  { key: 'pair:ax', failures: pair, lockedUntil: 0, updatedAt: 1000 },
];

test('SR-06 policy: an attempt is counted before its check; a locked address refuses only accounts it has failed on', () => {
  const first = admitLoginAttempt(counters(0, 0, 0), policy, 1000);
  assert.ok(first.admitted);
  assert.deepEqual(first.write.map((c) => c.failures), [1, 1, 1]);
  const third = admitLoginAttempt(counters(2, 2, 2), policy, 1000);
  assert.ok(third.admitted, 'the last free attempt is still checked');
  assert.equal(third.write[0]!.lockedUntil, 1010, 'and locks the account for whatever comes after it');
  assert.deepEqual(admitLoginAttempt(counters(3, 3, 3, [1010, 0]), policy, 1000), { admitted: false, retryAfterSeconds: 10, write: [] });
  assert.equal(admitLoginAttempt(counters(3, 3, 3, [1010, 0]), policy, 1010).admitted, true, 'the lock ends');
  assert.equal(admitLoginAttempt(counters(0, 9, 1, [0, 1040]), policy, 1000).admitted, false, 'the address guessed this account');
  assert.equal(admitLoginAttempt(counters(0, 9, 0, [0, 1040]), policy, 1000).admitted, true, 'an account it never failed on');
  assert.equal(admitLoginAttempt(counters(3, 3, 3, [1010, 0]), policy, 1000 + 601).admitted, true, 'a quiet window starts again');
});

/** The test client plays a proxy (trusted on loopback) to send attempts from several client addresses. */
forEachStore('SR-06 login throttling over HTTP', (fixture) => {
  async function withServer(users: Record<string, number>, fn: (server: TestServer) => Promise<void>) {
    const server = await startTestServer(fixture, { http: { trustProxy: ['127.0.0.1', '::1'] }, users: { baseLockSeconds: 60, ...users } });
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  }
  /** A fresh browser's login attempt from `from`. */
  async function attempt(server: TestServer, email: string, password: string, from: string): Promise<Response> {
    const headers = { 'x-forwarded-for': from };
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`, { headers })).text();
    return browser.fetch(`${server.issuer}/login`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: inputValue(page, 'csrf'), return_to: '/account', email, password }).toString(),
    });
  }
  const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;

  test('SR-06 40 parallel wrong passwords: as many checks as the account allows, then 429s; never a success after the limit', async () => {
    await withServer({ accountFreeFailures: 5 }, async (server) => {
      const email = unique('kate');
      await createUser(server, email);
      const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(server, email, `wrong guess ${i}`, '203.0.113.9').then((r) => r.status)));
      assert.equal(statuses.filter((s) => s === 401).length, 5, `checked: ${statuses.join(' ')}`);
      assert.equal(statuses.filter((s) => s === 429).length, 35);
      const correct = await attempt(server, email, PASSWORD, '203.0.113.9');
      assert.equal(correct.status, 429, 'the right password waits out the lock too');
      assert.ok(Number(correct.headers.get('retry-after')) >= 1);
      const elsewhere = await attempt(server, email, PASSWORD, '198.51.100.1');
      assert.equal(elsewhere.status, 429, 'the account lock holds from every address');
      server.clock.advance(61);
      assert.equal((await attempt(server, email, PASSWORD, '203.0.113.9')).status, 303, 'the lock ends; a success clears the account');
      assert.equal((await attempt(server, email, 'wrong again', '203.0.113.9')).status, 401, 'counting starts again');
    });
  });

  test('SR-06 a locked address never locks out an account it was not guessing: others sign in from there', async () => {
    await withServer({ accountFreeFailures: 100, ipFreeFailures: 3 }, async (server) => {
      const [victim, neighbour] = [unique('victim'), unique('neighbour')];
      await createUser(server, victim);
      await createUser(server, neighbour);
      for (let i = 0; i < 3; i++) assert.equal((await attempt(server, victim, `guess ${i}`, '203.0.113.20')).status, 401);
      assert.equal((await attempt(server, victim, PASSWORD, '203.0.113.20')).status, 429, 'the address is locked for the account it guessed');
      assert.equal((await attempt(server, neighbour, PASSWORD, '203.0.113.20')).status, 303, 'an account not guessed from there signs in');
      assert.equal((await attempt(server, victim, PASSWORD, '198.51.100.2')).status, 303, 'and the guessed account, from its own address');
      assert.equal((await attempt(server, neighbour, 'typo', '203.0.113.20')).status, 401, 'one failure is checked');
      assert.equal((await attempt(server, neighbour, PASSWORD, '203.0.113.20')).status, 429, 'after it, the locked address holds for that account too');
      const throttled = (await server.store.listAuditRows({ event: 'login.throttled', limit: 100 })).filter((row) => row.ip === '203.0.113.20');
      assert.equal(throttled.length, 1, 'refusals of one address in a minute: one row, the rest counted');
    });
  });

  test('SR-06 a success undoes its own count: many good logins from one address never lock it', async () => {
    await withServer({ ipFreeFailures: 2 }, async (server) => {
      const email = unique('busy');
      await createUser(server, email);
      for (let i = 0; i < 6; i++) assert.equal((await attempt(server, email, PASSWORD, '203.0.113.30')).status, 303, `login ${i}`);
    });
  });

  test('SR-06 a locked address still gets one check per account it never tried, so a flood ceiling bounds its work; failures are counted, not one row each', async () => {
    await withServer({ accountFreeFailures: 100, ipFreeFailures: 2, loginAttemptsPerIpPerMinute: 6 }, async (server) => {
      server.clock.advance(60);
      const from = '203.0.113.40';
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await attempt(server, unique(`spray${i}`), 'Winter2026!', from)).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429], 'six attempts a minute from one address, checked or not');
      assert.equal((await attempt(server, unique('other'), 'x', '198.51.100.40')).status, 401, 'another address has its own budget');
      const failed = (await server.store.listAuditRows({ event: 'login.failed', limit: 1000 })).filter((row) => row.ip === from);
      assert.equal(failed.length, 1, 'one row for the minute');
      assert.equal((await server.store.listAuditRows({ event: 'login.rate_limited', limit: 100 })).filter((row) => row.ip === from).length, 1);
      server.clock.advance(60);
      assert.equal((await attempt(server, unique('later'), 'x', from)).status, 401, 'the budget refills');
      const counted = (await server.store.listAuditRows({ event: 'login.failed_count', limit: 100 })).filter((row) => row.ip === from);
      assert.equal(counted[0]?.detail?.['count'], 5);
    });
  });
});
