import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDpopProof, dpopKeyFrom } from '@mandate/protocol';
import { REDIS_REPLAY_PREFIX, redisReplayMarkers } from '../../src/store/redis/replay-markers.ts';
import { encodeCommand, parseReply, RespClient, RespErrorReply } from '../../src/store/redis/resp-client.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * Issue 11 item 4: the replay markers (DPoP proof `jti`s, client assertions, jwt-bearer grants) in Redis when
 * `redisUrl` is set, against the Redis the machine runs (MANDATE_TEST_REDIS_URL, default redis://127.0.0.1:6379):
 * the table's semantics on the injected clock, 503 when Redis cannot answer, and over HTTP a proof used at one
 * instance refused at another, its marker in Redis.
 */

const REDIS_URL = process.env['MANDATE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A TCP port that accepts connections and never answers (a Redis that hangs). */
async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `redis://127.0.0.1:${port}`, close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }) };
}

describe('RESP (the Redis protocol) as the client reads and writes it', () => {
  test('replies of each type, and an incomplete one waits for more', () => {
    const buffer = Buffer.from('+OK\r\n:1\r\n$5\r\nhello\r\n$-1\r\n*2\r\n:7\r\n$1\r\nx\r\n-ERR no\r\n');
    const replies: unknown[] = [];
    for (let offset = 0; offset < buffer.length; ) {
      const parsed = parseReply(buffer, offset)!;
      replies.push(parsed.reply);
      offset = parsed.next;
    }
    assert.deepEqual(replies.slice(0, 5), ['OK', 1, 'hello', null, [7, 'x']]);
    assert.ok(replies[5] instanceof RespErrorReply && replies[5].message === 'ERR no');
    for (const partial of ['$5\r\nhel', '*2\r\n:7\r\n', ':1']) assert.equal(parseReply(Buffer.from(partial), 0), undefined, partial);
    assert.equal(encodeCommand(['GET', 'ké']).toString(), '*2\r\n$3\r\nGET\r\n$3\r\nké\r\n');
  });
});

describe('replay markers in Redis', () => {
  test('consumeOnce: the first use wins, a marker still valid at now is a replay, an expired one is taken over (on the injected clock)', async () => {
    const markers = redisReplayMarkers(REDIS_URL);
    try {
      const key = `test:${randomUUID()}`;
      const now = 1_700_000_000;
      assert.equal(await markers.consumeOnce(key, now + 10, now), true);
      assert.equal(await markers.consumeOnce(key, now + 10, now), false);
      assert.equal(await markers.consumeOnce(key, now + 50, now + 10), false, 'valid through its expiry second');
      assert.equal(await markers.consumeOnce(key, now + 50, now + 11), true, 'expired: taken over');
      assert.equal(await markers.consumeOnce(key, now + 50, now + 20), false);
      // Concurrent first uses of one marker: exactly one wins.
      const raced = `test:${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 20 }, () => markers.consumeOnce(raced, now + 10, now)));
      assert.equal(results.filter(Boolean).length, 1);
      // SR-FUZZ-04 a fractional expiry (a proof's iat or an assertion's exp of 1.7e9 + 10.0005) is judged, not a 503.
      const fractional = `test:${randomUUID()}`;
      assert.equal(await markers.consumeOnce(fractional, now + 10.0005, now), true);
      assert.equal(await markers.consumeOnce(fractional, now + 10.0005, now + 10), false);
      // Redis drops the key when the marker expires (relative to now).
      const client = new RespClient(REDIS_URL);
      const ttl = (await client.command(['PTTL', `${REDIS_REPLAY_PREFIX}${raced}`]).finally(() => client.close())) as number;
      assert.ok(ttl > 0 && ttl <= 10_000, `PTTL ${ttl}`);
    } finally {
      markers.close();
    }
  });

  test('Redis refusing the connection, or not answering, is StoreUnavailableError: never a pass', async () => {
    const refused = redisReplayMarkers('redis://127.0.0.1:1');
    await assert.rejects(refused.consumeOnce('k', 20, 10), StoreUnavailableError);
    refused.close();
    const silent = await silentServer();
    const hanging = redisReplayMarkers(silent.url, { timeoutMs: 200 });
    try {
      // Commands keep coming every 50 ms: the oldest one's deadline holds all the same (newer ones do not push it back).
      const first = hanging.consumeOnce('k', 20, 10);
      let settled = false;
      void first.then(
        () => (settled = true),
        () => (settled = true),
      );
      const later: Promise<unknown>[] = [];
      while (!settled && later.length < 40) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (!settled) later.push(hanging.consumeOnce(`k${later.length}`, 20, 10).catch(() => {}));
      }
      await assert.rejects(first, (err: Error) => err instanceof StoreUnavailableError && /did not answer within 200 ms/.test(err.message));
      assert.ok(later.length < 10, `failed after ${later.length} later commands, not pushed back by them`);
      await Promise.all(later);
    } finally {
      hanging.close();
      await silent.close();
    }
  });

  test('a refused AUTH or SELECT fails the connection: no command behind it runs', async () => {
    for (const url of [REDIS_URL.replace('redis://', 'redis://:wrong-password@'), `${REDIS_URL}/99999`]) {
      const markers = redisReplayMarkers(url);
      const key = `test:${randomUUID()}`;
      await assert.rejects(markers.consumeOnce(key, 20, 10), StoreUnavailableError, url);
      markers.close();
      const client = new RespClient(REDIS_URL);
      try {
        assert.equal(await client.command(['EXISTS', `${REDIS_REPLAY_PREFIX}${key}`]), 0, `${url}: the marker was not written`);
      } finally {
        client.close();
      }
    }
  });
});

forEachStore('DPoP replay markers in Redis (redisUrl)', (fixture) => {
  let server: TestServer;
  let second: TestServer;
  let agent: { clientId: string; clientSecret: string };
  const key = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');

  before(async () => {
    server = await startTestServer(fixture, { redisUrl: REDIS_URL });
    second = await startTestServer(fixture, { issuer: server.issuer, redisUrl: REDIS_URL });
    second.clock.advance(server.clock.now() - second.clock.now());
    agent = await registerAgentAndResource(server);
  });
  after(async () => {
    await second?.close();
    await server?.close();
  });

  const clientCredentials = (port: number, dpop?: string) =>
    fetch(`http://127.0.0.1:${port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(agent.clientId, agent.clientSecret), ...(dpop ? { dpop } : {}) },
      body: 'grant_type=client_credentials',
    });

  test('DP-15: a proof used at one instance is refused at the other; its marker is in Redis', async () => {
    const proof = createDpopProof(key, { method: 'POST', url: `${server.issuer}/token` }, server.clock.now());
    assert.equal((await clientCredentials(second.port, proof)).status, 200);
    const replayed = await clientCredentials(server.port, proof);
    assert.equal(replayed.status, 400);
    assert.deepEqual(await replayed.json(), { error: 'invalid_dpop_proof', error_description: 'the DPoP proof was used before' });
    const jti = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString())['jti'] as string;
    const marker = `dpop:${createHash('sha256').update(`${key.jkt}\u0000${jti}`).digest('base64url')}`;
    const client = new RespClient(REDIS_URL);
    try {
      assert.ok(Number(await client.command(['GET', `${REDIS_REPLAY_PREFIX}${marker}`])) > server.clock.now(), 'the marker, valid until past now');
    } finally {
      client.close();
    }
  });

  test('Redis unreachable: a DPoP token request is answered 503 with Retry-After, never served unchecked; one without a proof is served', async () => {
    const cut = await startTestServer(fixture, { issuer: server.issuer, redisUrl: 'redis://127.0.0.1:1' });
    try {
      cut.clock.advance(server.clock.now() - cut.clock.now());
      const response = await clientCredentials(cut.port, createDpopProof(key, { method: 'POST', url: `${server.issuer}/token` }, cut.clock.now()));
      assert.equal(response.status, 503, await response.clone().text());
      assert.ok(response.headers.get('retry-after'));
      assert.equal((await clientCredentials(cut.port)).status, 200);
    } finally {
      await cut.close();
    }
  });
});
