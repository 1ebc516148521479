import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { argumentsSha256 } from '@mandate/protocol';
import { registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * Tool-call audit (issue 12 item 7) over real HTTP: an MCP server reports tool calls with its API key; each is a
 * `tool.call` row of the hash-chained audit log (the arguments' hash, never the arguments), found again by the
 * admin API's filters (event, tool, subject) and still verifying as a chain.
 */
forEachStore('POST /tool-calls: the tool-call audit', (fixture) => {
  let server: TestServer;
  let apiKey: string;
  const uri = 'https://audited.example.com/mcp';

  before(async () => {
    server = await startTestServer(fixture);
    apiKey = (await registerAgentAndResource(server, {}, uri)).apiKey;
  });
  after(() => server.close());

  const report = (body: unknown, key = apiKey) =>
    fetch(`${server.issuer}/tool-calls`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const call = (extra: Record<string, unknown> = {}) => ({
    subject: 'usr_ada',
    client_id: 'agt_helper',
    chain: ['agt_helper'],
    tool: 'run_command',
    arguments_sha256: argumentsSha256({ command: 'ls' }),
    decision: 'allowed',
    duration_ms: 12.5,
    ...extra,
  });

  test('a batch of calls becomes tool.call rows, queryable by tool and subject, and the chain verifies', async () => {
    const sent = await report({ calls: [call(), call({ tool: 'read_file', subject: 'usr_bob', decision: 'refused', reason: 'insufficient_scope: files:read' })] });
    assert.equal(sent.status, 200, await sent.clone().text());
    assert.deepEqual(await sent.json(), { recorded: 2 });
    await server.context.audit.flush();

    const byTool = (await (await server.admin('GET', '/audit?event=tool.call&tool=read_file')).json()) as { events: { event: string; actor: string; subject: string; client_id: string; detail: Record<string, unknown> }[] };
    assert.equal(byTool.events.length, 1);
    const row = byTool.events[0]!;
    assert.deepEqual([row.event, row.actor, row.subject, row.client_id], ['tool.call', uri, 'usr_bob', 'agt_helper']);
    assert.deepEqual(row.detail, { tool: 'read_file', arguments_sha256: argumentsSha256({ command: 'ls' }), decision: 'refused', reason: 'insufficient_scope: files:read', duration_ms: 12.5, chain: ['agt_helper'] });
    const bySubject = (await (await server.admin('GET', '/audit?event=tool.call&subject=usr_ada')).json()) as { events: { detail: { tool: string } }[] };
    assert.deepEqual(bySubject.events.map((e) => e.detail.tool), ['run_command']);
    const verified = (await (await server.admin('GET', '/audit/verify')).json()) as { ok: boolean };
    assert.equal(verified.ok, true);
  });

  test('no or a wrong API key → 401; a bad body → 400 invalid_request naming the member; nothing is written', async () => {
    assert.equal((await report({ calls: [call()] }, 'mrk_x.y')).status, 401);
    assert.equal((await fetch(`${server.issuer}/tool-calls`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 401);
    const cases: [unknown, RegExp][] = [
      [{ calls: [] }, /calls/],
      [{ calls: [call({ arguments: { command: 'ls' } })] }, /arguments/],
      [{ calls: [call({ decision: 'maybe' })] }, /decision/],
      [{ calls: [call({ arguments_sha256: 'abc' })] }, /arguments_sha256/],
      [{ calls: Array.from({ length: 101 }, () => call()) }, /calls/],
    ];
    await server.context.audit.flush();
    const before = ((await (await server.admin('GET', '/audit?event=tool.call')).json()) as { events: unknown[] }).events.length;
    for (const [body, message] of cases) {
      const response = await report(body);
      assert.equal(response.status, 400);
      const error = (await response.json()) as { error: string; error_description: string };
      assert.equal(error.error, 'invalid_request');
      assert.match(error.error_description, message);
    }
    await server.context.audit.flush();
    assert.equal(((await (await server.admin('GET', '/audit?event=tool.call')).json()) as { events: unknown[] }).events.length, before);
  });
});
