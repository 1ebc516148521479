import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

/**
 * RFC 8628 §5.1 throttles of the code entry page, with `rateLimit.shared` on two instances of one database: an
 * address's attempts and the wrong codes of every address are counted once between them, and a lock taken on one
 * instance holds on the other. Each instance syncs its counts once a second; here the test syncs them itself.
 */
forEachStore('device verification throttles shared across instances', (fixture) => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  async function twoInstances(device: Record<string, number>) {
    const overrides = { rateLimit: { shared: true }, device: { requestsPerIpPerMinute: 0, ...device } };
    const a = await startTestServer(fixture, overrides);
    const b = await startTestServer(fixture, overrides);
    servers.push(a, b);
    // One instant for both frozen clocks, so that they count the same minute.
    b.clock.advance((a.clock.nowMs() - b.clock.nowMs()) / 1000);
    return [a, b] as const;
  }

  /** A signed-in browser at `server`'s code entry page, and a wrong code entered there. */
  async function guesser(server: TestServer, email: string) {
    const browser = new Browser();
    const login = new URL((await browser.fetch(`${server.issuer}/device`)).headers.get('location')!, server.issuer);
    const loginPage = await (await browser.fetch(login.href)).text();
    const signedIn = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(loginPage, 'csrf'), return_to: inputValue(loginPage, 'return_to'), email, password: PASSWORD });
    assert.equal(signedIn.status, 303);
    const page = await (await browser.fetch(`${server.issuer}/device`)).text();
    return () => browser.postForm(`${server.issuer}/device`, { csrf: inputValue(page, 'csrf'), user_code: 'BCDF-GHJK' });
  }
  const sync = (server: TestServer) => server.context.sharedRateCounts!.sync();

  test('DAG codes entered from one address are counted once between the instances', async () => {
    const [a, b] = await twoInstances({ userCodeAttemptsPerIpPerMinute: 3, userCodeFailuresPerMinute: 1000 });
    await createUser(a, 'shared-attempts@example.com');
    const [atA, atB] = [await guesser(a, 'shared-attempts@example.com'), await guesser(b, 'shared-attempts@example.com')];
    assert.equal((await atA()).status, 400);
    assert.equal((await atA()).status, 400);
    await sync(a);
    assert.equal((await atB()).status, 400, 'the third of the minute, wherever it is entered');
    await sync(b);
    const refused = await atB();
    assert.equal(refused.status, 429, 'B knows of A’s two attempts: its own first one was the last');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    await sync(a);
    assert.equal((await atA()).status, 429, 'A learns of B’s attempt at its next sync');
  });

  test('DAG a lock after too many wrong codes on one instance holds on the other', async () => {
    const [a, b] = await twoInstances({ userCodeAttemptsPerIpPerMinute: 0, userCodeFailuresPerMinute: 2 });
    await createUser(a, 'shared-failures@example.com');
    const [atA, atB] = [await guesser(a, 'shared-failures@example.com'), await guesser(b, 'shared-failures@example.com')];
    assert.equal((await atA()).status, 400);
    assert.equal((await atB()).status, 400, 'the second wrong code of the minute, on the other instance');
    await sync(a);
    await sync(b);
    await sync(a);
    assert.equal((await atA()).status, 400, 'the third is wrong too: past the two of every instance together, it locks');
    assert.equal((await atA()).status, 429);
    await sync(a);
    await sync(b);
    const locked = await atB();
    assert.equal(locked.status, 429, 'B holds A’s lock');
    assert.ok(Number(locked.headers.get('retry-after')) >= 1 && Number(locked.headers.get('retry-after')) <= 60);
    a.clock.advance(60);
    b.clock.advance(60);
    assert.equal((await atB()).status, 400, 'a new minute starts over');
  });
});
