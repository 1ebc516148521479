import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveAuditKey } from '../../src/audit/audit-chain.ts';
import { RefusalAudit } from '../../src/audit/refusal-audit.ts';
import { verifyAuditChain } from '../../src/audit/verify-audit-chain.ts';
import type { AuditEvent } from '../../src/audit/audit-log.ts';
import { basicAuth, registerAgentAndResource, startTestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('SR-20 refused token requests are aggregated', (fixture) => {
  test('SR-20 refusals get one row per client, address and minute plus one count row; every issued token keeps its own row', async () => {
    const server = await startTestServer(fixture);
    try {
      const agent = await registerAgentAndResource(server);
      const token = (secret: string, params: Record<string, string> = {}) =>
        server.postForm('/token', { grant_type: 'client_credentials', ...params }, { authorization: basicAuth(agent.clientId, secret) });
      const since = (await server.store.listAuditRows({ limit: 1, descending: true }))[0]!.seq;
      const rowsSince = async () => server.store.listAuditRows({ afterSeq: since, limit: 1000 });

      for (let i = 0; i < 40; i++) assert.equal((await token('wrong-secret')).status, 401);
      for (let i = 0; i < 25; i++) assert.equal((await token(agent.clientSecret, { scope: 'exec' })).status, 400);
      for (let i = 0; i < 5; i++) assert.equal((await token(agent.clientSecret)).status, 200);

      let rows = await rowsSince();
      assert.equal(rows.filter((r) => r.event === 'token.issued').length, 5, 'every issued token has its row');
      const refused = rows.filter((r) => r.event === 'token.refused');
      assert.equal(refused.length, 2, 'one row for the unauthenticated caller at this address, one for the client');
      assert.deepEqual(refused.map((r) => [r.clientId, r.detail['error']]).sort(), [[null, 'invalid_client'], [agent.clientId, 'invalid_scope']]);

      // The next minute: its first refusal closes the last one, whose counts are written next to it.
      server.clock.advance(60);
      assert.equal((await token('wrong-secret')).status, 401);
      rows = await rowsSince();
      const counts = rows.filter((r) => r.event === 'token.refused_count');
      assert.deepEqual(
        counts.map((r) => [r.clientId, r.ip, r.detail['count'], r.detail['errors']]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        [
          [agent.clientId, '127.0.0.1', 24, { invalid_scope: 24 }],
          [null, '127.0.0.1', 39, { invalid_client: 39 }],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      assert.equal(rows.filter((r) => r.event === 'token.refused').length, 3);
      assert.ok(rows.length <= 5 + 3 + 2, `${rows.length} rows for 71 requests`);

      for (let i = 0; i < 10; i++) await token('wrong-secret');
      await server.close();
      const [closing] = await fixture.store.listAuditRows({ event: 'token.refused_count', limit: 1, descending: true });
      assert.equal(closing?.detail['count'], 10, 'close writes the counts still open');
      const report = await verifyAuditChain(fixture.store, deriveAuditKey(Buffer.from(server.config.keys.kek!, 'base64url')));
      assert.equal(report.ok, true, JSON.stringify(report.problem));
    } finally {
      await server.close();
    }
  });
});

test('SR-20 past maxKeys distinct callers in a minute, refusals share one overflow key', async () => {
  const recorded: AuditEvent[] = [];
  let now = 1_800_000_000;
  const refusals = new RefusalAudit({ record: async (event) => void recorded.push(event) }, () => now, { maxKeys: 3 });
  const refuse = (ip: string) => refusals.record({ event: 'token.refused', ip, detail: { error: 'invalid_client' } });
  for (let i = 0; i < 100; i++) await refuse(`192.0.2.${i}`);
  assert.equal(recorded.length, 4, 'three keys, then one overflow row');
  assert.equal(recorded[3]?.ip, '192.0.2.3');
  now += 60;
  await refusals.flush();
  const overflow = recorded.filter((e) => e.event === 'token.refused_count');
  assert.deepEqual(overflow.map((e) => [e.ip, e.clientId, e.detail?.['count']]), [['*', '*', 96]]);
  assert.equal(recorded.length, 5);
});
