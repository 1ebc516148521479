import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * SR-08: a rotated-in signing key is published by every instance before any instance signs with it, then signing
 * switches everywhere at the same instant. Two servers share each database (SQLite, PostgreSQL), one in this process
 * and one in a process of its own, each with its own frozen clock and the real periodic key reload; the rotation
 * comes from the CLI (a third process) or from the admin API of either instance.
 */

/** An instance: a server in this process or in another. */
type Instance = Pick<TestServer, 'issuer' | 'postForm'> & { clock: { now(): number; advance(seconds: number): void | Promise<void> } };

const bin = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
const kek = randomBytes(32).toString('base64url');

/** Runs `mandate …` as its own process, with this suite's KEK; resolves with its exit status and output. */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const jwksKids = async (server: Instance): Promise<string[]> =>
  ((await (await fetch(`${server.issuer}/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

/** Waits until the server's JWKS lists `kid`: its periodic reload is the signal (a generous limit, never a fixed sleep). */
async function published(server: Instance, kid: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await jwksKids(server)).includes(kid)) {
    if (Date.now() > deadline) throw new Error(`${server.issuer} never published ${kid}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

forEachStore(
  'SR-08 key rotation publishes ahead',
  (fixture) => {
    async function twoInstances(keys: { rotationIntervalSeconds?: number; publishAheadSeconds?: number } = {}) {
      const a = await startTestServer(fixture, { keys: { kek, reloadIntervalSeconds: 1, ...keys } });
      const b: ServerProcess = await startServerProcess(fixture, { keys: { kek, reloadIntervalSeconds: 1, ...keys } });
      const agent = await registerAgentAndResource(a);
      /** The `kid` a fresh token from `server` is signed with. */
      const signingKid = async (server: Instance): Promise<string> => {
        const response = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
        const token = ((await response.json()) as { access_token: string }).access_token;
        assert.equal(((await (await server.postForm('/introspect', { token }, { authorization: `Bearer ${agent.apiKey}` })).json()) as { active: boolean }).active, true);
        return decodeJwt(token).header['kid'] as string;
      };
      return { a, b, signingKid, close: async () => void (await Promise.all([a.close(), b.close()])) };
    }

    test('SR-08 mandate keys rotate: every instance publishes the new key while the old one signs; at activates_at all switch', async () => {
      const { a, b, signingKid, close } = await twoInstances();
      try {
        const oldKid = await signingKid(a);
        const run = await cli(['keys', 'rotate', '--db', fixture.url, '--json', '--publish-ahead', '600']);
        assert.equal(run.status, 0, run.stderr);
        const rotated = JSON.parse(run.stdout) as { kid: string; retired_kid: string; activates_at: number };
        assert.equal(rotated.retired_kid, oldKid);

        for (const server of [a, b]) await published(server, rotated.kid);
        for (const server of [a, b]) {
          assert.equal(await signingKid(server), oldKid, 'published, not signing yet');
          assert.equal((await jwksKids(server))[0], oldKid, 'the signing key comes first');
          await server.clock.advance(rotated.activates_at - server.clock.now() - 1);
          assert.equal(await signingKid(server), oldKid, 'one second before: still the old key');
        }
        for (const server of [a, b]) {
          await server.clock.advance(1);
          assert.equal(await signingKid(server), rotated.kid, 'at activates_at the new key signs');
          assert.deepEqual(await jwksKids(server), [rotated.kid, oldKid], 'the old key stays published for its tokens');
        }
        const list = await cli(['keys', 'list', '--db', fixture.url, '--json']);
        const keys = JSON.parse(list.stdout) as { kid: string; activates_at: number; published: boolean }[];
        assert.equal(keys.find((k) => k.kid === rotated.kid)?.activates_at, rotated.activates_at);
      } finally {
        await close();
      }
    });

    test('SR-08 the admin API: publish_ahead_seconds; the other instance publishes it first; a second rotation before it signs → 409 (CLI: exit 1)', async () => {
      const { a, b, signingKid, close } = await twoInstances();
      try {
        const oldKid = await signingKid(b);
        assert.equal((await a.admin('POST', '/keys/rotate', { publish_ahead_seconds: 'soon' })).status, 400);
        const response = await a.admin('POST', '/keys/rotate', { publish_ahead_seconds: 120 });
        assert.equal(response.status, 200, await response.clone().text());
        const rotated = (await response.json()) as { kid: string; activates_at: number };
        assert.equal(rotated.activates_at, a.clock.now() + 120);
        await published(b, rotated.kid);
        for (const server of [a, b]) assert.equal(await signingKid(server), oldKid);

        const again = await a.admin('POST', '/keys/rotate', { publish_ahead_seconds: 0 });
        assert.equal(again.status, 409);
        assert.match(((await again.json()) as { detail: string }).detail, /rotation is pending/);
        const viaCli = await cli(['keys', 'rotate', '--db', fixture.url]);
        assert.equal(viaCli.status, 1);
        assert.match(viaCli.stderr, /^error: a rotation is pending: key \S+ starts signing at /);
        assert.equal(viaCli.stderr.trim().split('\n').length, 1, 'one line, no stack');

        for (const server of [a, b]) {
          await server.clock.advance(120);
          assert.equal(await signingKid(server), rotated.kid);
        }
        const audit = (await (await a.admin('GET', '/audit?event=key.rotated')).json()) as { events: { detail: Record<string, unknown> }[] };
        assert.ok(audit.events.some((e) => e.detail['kid'] === rotated.kid && e.detail['activates_at'] === rotated.activates_at));
      } finally {
        await close();
      }
    });

    test('KEY-ROT-01 scheduled rotation (keys.rotationIntervalSeconds): once the key is that old, the two instances make one new key between them, published ahead, then signing with it everywhere', async () => {
      const { a, b, signingKid, close } = await twoInstances({ rotationIntervalSeconds: 86_400, publishAheadSeconds: 600 });
      try {
        const oldKid = await signingKid(a);
        for (const server of [a, b]) await server.clock.advance(86_399);
        assert.equal((await fixture.store.listSigningKeys()).length, 1, 'not due a second early');
        for (const server of [a, b]) await server.clock.advance(1);
        // Both instances check at their next reload; the first to rotate wins, the other publishes its key.
        const deadline = Date.now() + 120_000;
        let records = await fixture.store.listSigningKeys();
        while (records.length < 2 || !(await jwksKids(a)).includes(records.find((r) => r.status === 'active')!.kid)) {
          if (Date.now() > deadline) throw new Error('no scheduled rotation');
          await new Promise((resolve) => setTimeout(resolve, 50));
          records = await fixture.store.listSigningKeys();
        }
        const fresh = records.find((r) => r.status === 'active')!;
        await published(b, fresh.kid);
        assert.equal(fresh.activatesAt! - fresh.createdAt, 600, 'published ahead by keys.publishAheadSeconds');
        for (const server of [a, b]) assert.equal(await signingKid(server), oldKid, 'published, not signing yet');
        // A later reload round on both instances makes no second key: the new one is not due for a day.
        for (const server of [a, b]) {
          await server.clock.advance(fresh.activatesAt! - server.clock.now());
          assert.equal(await signingKid(server), fresh.kid);
        }
        assert.equal((await fixture.store.listSigningKeys()).length, 2, 'exactly one new key between the two instances');
        const audit = (await (await a.admin('GET', '/audit?event=key.rotated')).json()) as { events: { actor: string; detail: Record<string, unknown> }[] };
        assert.deepEqual(audit.events.map((e) => [e.actor, e.detail['kid']]), [['schedule', fresh.kid]]);
      } finally {
        await close();
      }
    });
  },
  { databasePer: 'test' },
);
