import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { mandateEnv, runCliJson, startServerProcess } from '../helpers/processes.ts';

/**
 * Issue 13 item 5: `mandate serve` stopped by SIGTERM while clients keep requesting tokens drains what it has,
 * commits the audit trail and exits 0: every token a client received has its `token.issued` row, and the chain
 * still verifies. The deterministic half (a request under way is answered) is in
 * packages/server/test/http/operations.test.ts.
 */
forEachStore('mandate serve under SIGTERM', (fixture) => {
  test('OPS-drain SIGTERM during load: exit 0, every token a client received has its audit row, the chain verifies', async () => {
    const resourceUri = 'https://api.example.com/mcp';
    const env = { ...mandateEnv(fixture.url), MANDATE_LOG_LEVEL: 'info', MANDATE_RATE_LIMIT_CLIENT: '0', MANDATE_RATE_LIMIT_IP: '0', MANDATE_SHUTDOWN_GRACE: '60' };
    await runCliJson(['resource', 'create', '--uri', resourceUri, '--scope', 'calc'], env);
    const agent = await runCliJson<{ client_id: string; client_secret: string }>(['agent', 'create', '--name', 'load', '--scope', 'calc', '--audience', resourceUri], env);
    const server = await startServerProcess(await freePort(), env);
    let output = '';
    server.child.stdout!.on('data', (chunk) => (output += chunk));
    const exited = once(server.child, 'close');

    const authorization = `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`;
    const received: string[] = [];
    const statuses = new Map<number, number>();
    let enough: () => void;
    const loaded = new Promise<void>((resolve) => (enough = resolve));
    // Each worker requests tokens until the server no longer takes its connection.
    const worker = async () => {
      for (;;) {
        let response: Response;
        try {
          response = await fetch(`${server.issuer}/token`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'calc', resource: resourceUri }).toString(),
          });
        } catch {
          return;
        }
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status !== 200) continue;
        const token = ((await response.json()) as { access_token: string }).access_token;
        received.push(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti);
        if (received.length === 40) enough();
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await loaded;
    server.child.kill('SIGTERM');
    await Promise.all(workers);
    const [code] = await exited;

    assert.equal(code, 0, output);
    assert.match(output, /"msg":"stopped: requests drained, audit trail committed"/);
    assert.deepEqual([...statuses.keys()].filter((status) => status !== 200 && status !== 503), [], 'only tokens, or 503 while closing');
    const rows = await fixture.store.listAuditRows({ event: 'token.issued', clientId: agent.client_id, limit: 100_000 });
    const audited = new Set(rows.map((row) => row.detail['jti']));
    assert.deepEqual(received.filter((jti) => !audited.has(jti)), [], `${received.length} tokens received, each audited`);
    const report = await runCliJson<{ ok: boolean }>(['audit', 'verify'], env);
    assert.equal(report.ok, true);
  });
});
