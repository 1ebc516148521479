import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { toolScopes } from '../src/scopes.ts';
import { type DemoFixture, startDemoFixture } from './helpers/demo-fixture.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** What a 401 without credentials offers next to Bearer (RFC 9449 §7.1): the resource accepts DPoP. */
const DPOP_OFFER = `DPoP algs="${JWS_ALGORITHMS.join(' ')}"`;

const textOf = (result: unknown) => ((result as { content: { text: string }[] }).content).map((c) => c.text).join('');
const allScopes = 'calc files:read files:write exec';

describe('demo MCP server (in process, fixture AS)', () => {
  let demo: DemoFixture;
  before(async () => {
    demo = await startDemoFixture();
  });
  after(() => demo.close());

  test('MCP-RS-01 RFC 9728 metadata at the path-inserted URL names the AS and every scope', async () => {
    assert.equal(demo.server.metadataUrl, demo.server.resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'));
    const metadata = await (await fetch(demo.server.metadataUrl)).json();
    assert.deepEqual(metadata, {
      resource: demo.server.resource,
      authorization_servers: [demo.as.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['calc', 'files:read', 'files:write', 'exec'],
      resource_name: 'Mandate demo MCP server',
    });
  });

  test('BR-01 no token → 401 with resource_metadata, the first-call (low-risk) scopes and no error', async () => {
    const response = await fetch(demo.server.resource, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer scope="calc files:read", resource_metadata="${demo.server.metadataUrl}", ${DPOP_OFFER}`);
  });

  test('tools/list shows the six tools with their annotations', async () => {
    const client = await demo.connect(demo.token({ scope: 'files:read' }));
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), Object.keys(toolScopes).sort());
    assert.equal(tools.find((t) => t.name === 'write_file')?.annotations?.destructiveHint, true);
    assert.equal(tools.find((t) => t.name === 'read_file')?.annotations?.readOnlyHint, true);
  });

  test('MCP-RS-03 each tool without its scope → HTTP 403 insufficient_scope naming that scope, then those the token has', async () => {
    for (const [tool, scopes] of Object.entries(toolScopes)) {
      if (scopes.length === 0) continue;
      const others = allScopes.split(' ').filter((s) => !(scopes as readonly string[]).includes(s));
      const response = await fetch(demo.server.resource, {
        method: 'POST',
        headers: { authorization: `Bearer ${demo.token({ scope: others.join(' ') })}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }),
      });
      assert.equal(response.status, 403, tool);
      assert.match(response.headers.get('www-authenticate') ?? '', new RegExp(`error="insufficient_scope".*scope="${[...scopes, ...others].join(' ')}"`), tool);
    }
  });

  test('add, and whoami with the whole delegation chain of a delegated token', async () => {
    const act = { sub: 'agt_assistant', sub_profile: 'ai_agent', client_id: 'agt_assistant', act: { sub: 'agt_planner', sub_profile: 'ai_agent', client_id: 'agt_planner' } };
    const client = await demo.connect(demo.token({ sub: 'usr_alice', client_id: 'agt_assistant', scope: 'calc', act }));
    assert.deepEqual(JSON.parse(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 3.5 } }))), { sum: 5.5 });
    const whoami = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} })));
    assert.equal(whoami.subject, 'usr_alice');
    assert.equal(whoami.agent, 'agt_assistant');
    assert.equal(whoami.acting_for_itself, false);
    assert.deepEqual(whoami.delegation_chain, [
      { subject: 'agt_assistant', clientId: 'agt_assistant', subjectProfile: 'ai_agent' },
      { subject: 'agt_planner', clientId: 'agt_planner', subjectProfile: 'ai_agent' },
    ]);
    assert.equal(JSON.stringify(whoami).includes('eyJ'), false, 'the token itself is never echoed');
  });

  test('files: list, read, write; traversal comes back as a tool error', async () => {
    const client = await demo.connect(demo.token({ scope: 'files:read files:write' }));
    const listing = JSON.parse(textOf(await client.callTool({ name: 'list_files', arguments: {} })));
    assert.deepEqual(listing.entries.map((e: { name: string }) => e.name), ['hello.txt', 'notes']);
    assert.match(textOf(await client.callTool({ name: 'read_file', arguments: { path: 'notes/todo.md' } })), /# Demo notes/);
    await client.callTool({ name: 'write_file', arguments: { path: 'out/agent.txt', content: 'written\n' } });
    assert.equal(readFileSync(join(demo.sandboxDir, 'out', 'agent.txt'), 'utf8'), 'written\n');
    for (const path of ['../../../etc/passwd', '/etc/passwd']) {
      const result = await client.callTool({ name: 'read_file', arguments: { path } });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /refused/);
    }
  });

  test('run_command: allow-listed commands run, others are a tool error', async () => {
    const client = await demo.connect(demo.token({ scope: 'exec' }));
    const ran = JSON.parse(textOf(await client.callTool({ name: 'run_command', arguments: { command: 'echo hi there' } })));
    assert.equal(ran.stdout, 'hi there\n');
    const refused = await client.callTool({ name: 'run_command', arguments: { command: 'cat /etc/passwd' } });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /not on the allow-list/);
  });

  test('SR-14 no tool answer names the sandbox’s absolute path: file errors, unexpected errors, command output', async () => {
    const root = realpathSync(demo.sandboxDir);
    symlinkSync(join(root, 'hello.txt'), join(root, 'absolute-link.txt'));
    const client = await demo.connect(demo.token({ scope: 'files:read files:write exec' }));
    const answers = [
      await client.callTool({ name: 'read_file', arguments: { path: 'x'.repeat(300) } }), // ENAMETOOLONG
      await client.callTool({ name: 'read_file', arguments: { path: 'missing/file.txt' } }),
      await client.callTool({ name: 'list_files', arguments: { path: 'hello.txt' } }), // ENOTDIR
      await client.callTool({ name: 'write_file', arguments: { path: `notes/${'y'.repeat(300)}/z.txt`, content: 'z' } }),
      await client.callTool({ name: 'read_file', arguments: { path: 'absolute-link.txt' } }),
      await client.callTool({ name: 'run_command', arguments: { command: 'ls -l' } }),
      await client.callTool({ name: 'run_command', arguments: { command: 'ls -l absolute-link.txt nothing-here' } }),
    ];
    for (const answer of answers) {
      const text = textOf(answer);
      assert.ok(!text.includes(root) && !text.includes(demo.sandboxDir), `leaks the sandbox path: ${text}`);
    }
    assert.equal(answers[0]!.isError, true);
    assert.match(textOf(answers[0]), /name too long: x{300}/);
    assert.match(JSON.parse(textOf(answers[5])).stdout, /absolute-link\.txt -> \.\/hello\.txt/);
  });

  test('MCP-RS-04 a token for another resource → 401 invalid_token', async () => {
    await assert.rejects(demo.connect(demo.token({ aud: 'http://localhost:1/mcp' })), (err: unknown) => err instanceof StreamableHTTPError && err.code === 401);
  });

  test('stateless transport: GET and DELETE → 405, other paths → 404', async () => {
    assert.equal((await fetch(demo.server.resource)).status, 405);
    assert.equal((await fetch(demo.server.resource, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(new URL('/other', demo.server.resource))).status, 404);
  });

  test('DNS rebinding: a request naming another Host is refused even with a valid token', async () => {
    const { port } = new URL(demo.server.resource);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { host: `evil.example:${port}`, authorization: `Bearer ${demo.token()}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    });
    assert.equal(status, 403);
  });
});

describe('demo MCP server in introspection mode', () => {
  let demo: DemoFixture;
  before(async () => {
    demo = await startDemoFixture({ verify: 'introspection' });
  });
  after(() => demo.close());

  test('a revoked token is refused on its next call (no introspection cache by default)', async () => {
    const token = demo.token({ scope: 'calc' });
    const client = await demo.connect(token);
    await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } });
    demo.as.revoke(token);
    await assert.rejects(client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 401);
  });
});
