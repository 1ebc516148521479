import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isMandateError } from '@mandate/sdk/errors';
import { type DemoFixture, startDemoFixture } from '../../mcp-server/test/helpers/demo-fixture.ts';
import { type McpSession, openMcpSession, parseBearerChallenge } from '../src/mcp-session.ts';
import { recordingReporter } from './helpers/recording-reporter.ts';

test('parseBearerChallenge reads the parameters of a Bearer challenge', () => {
  assert.deepEqual(parseBearerChallenge('Bearer error="insufficient_scope", error_description="missing scope: files:write", scope="files:write", resource_metadata="http://h/.well-known/oauth-protected-resource/mcp"'), {
    error: 'insufficient_scope',
    error_description: 'missing scope: files:write',
    scope: 'files:write',
    resource_metadata: 'http://h/.well-known/oauth-protected-resource/mcp',
  });
  assert.deepEqual(parseBearerChallenge('Basic realm="x"'), {});
  assert.deepEqual(parseBearerChallenge(null), {});
});

for (const verify of ['jwt', 'introspection'] as const) {
  describe(`agent MCP session (${verify} mode server, fixture AS)`, () => {
    let demo: DemoFixture;
    const sessions: McpSession[] = [];
    before(async () => {
      demo = await startDemoFixture({ verify });
      demo.as.addClient({ clientId: 'agt_demo', secret: 'demo-secret' });
    });
    after(async () => {
      for (const session of sessions) await session.close();
      await demo.close();
    });

    async function open(overrides: { issuer?: string; mcpUrl?: string; clientSecret?: string; scope?: string; fetch?: typeof fetch; clock?: () => number } = {}) {
      const reporter = recordingReporter();
      const session = await openMcpSession({
        issuer: demo.as.issuer,
        clientId: 'agt_demo',
        clientSecret: 'demo-secret',
        mcpUrl: demo.server.resource,
        scope: 'calc files:read',
        reporter,
        ...overrides,
      });
      sessions.push(session);
      return { session, reporter };
    }

    test('MCP-C-04 one client_credentials token for this resource, reused across calls', async () => {
      const before = demo.as.counts.token;
      const { session, reporter } = await open();
      for (let i = 0; i < 3; i++) assert.deepEqual(await session.call('add', { a: i, b: 1 }), { ok: true, kind: 'result', text: JSON.stringify({ sum: i + 1 }, null, 2), value: { sum: i + 1 } });
      assert.equal(demo.as.counts.token - before, 1);
      const request = demo.as.tokenRequests.at(-1)!;
      assert.equal(request.get('grant_type'), 'client_credentials');
      assert.deepEqual(request.getAll('resource'), [demo.server.resource]);
      assert.equal(request.get('scope'), 'calc files:read');
      assert.deepEqual(reporter.named('token').map((e) => e['scope']), [['calc', 'files:read']]);
      assert.equal(JSON.stringify(reporter.events).includes('eyJ'), false, 'no token in the output');
    });

    test('MCP-RS-03 a refusal at the HTTP layer is reported with its challenge', async () => {
      const { session } = await open();
      assert.deepEqual(await session.call('write_file', { path: 'x.txt', content: 'x' }), {
        ok: false,
        kind: 'refused',
        status: 403,
        error: 'insufficient_scope',
        // The tool's scope, then those the token already has (MCP "Scope Challenge Handling").
        scope: 'files:write calc files:read',
        description: 'missing scope: files:write',
      });
      const toolError = await session.call('read_file', { path: '../x' });
      assert.equal(toolError.kind, 'tool_error');
    });

    test('MCP-C-01 metadata naming another resource → the agent stops before asking for a token', async () => {
      const before = demo.as.counts.token;
      const other = demo.server.resource.replace('localhost', '127.0.0.1');
      await assert.rejects(open({ mcpUrl: other }), /describes http:\/\/localhost:\d+\/mcp, not http:\/\/127\.0\.0\.1/);
      assert.equal(demo.as.counts.token, before);
    });

    test('the client secret goes only to the configured AS: a resource naming another AS is refused', async () => {
      const before = demo.as.counts.token;
      await assert.rejects(open({ issuer: 'http://127.0.0.1:9/' }), /does not accept tokens from http:\/\/127\.0\.0\.1:9\//);
      assert.equal(demo.as.counts.token, before);
    });

    test('wrong credentials → the token request fails with the AS error', async () => {
      await assert.rejects(open({ clientSecret: 'wrong' }), (err: unknown) => isMandateError(err) && err.code === 'ERR_TOKEN_REQUEST_FAILED' && err.error === 'invalid_client');
    });

    if (verify === 'jwt') {
      test('the token is renewed before it expires (halfway through a short lifetime), without a refusal', async () => {
        // The agent's clock decides renewal; it moves only when the test says. The resource checks `exp` against
        // the real clock, which a 100 s token outlives however slow the machine is.
        let now = Date.now();
        demo.as.setTokenTtl(100);
        try {
          const { session, reporter } = await open({ clock: () => now });
          assert.equal((await session.call('whoami', {})).ok, true);
          now += 49_000;
          assert.equal((await session.call('whoami', {})).ok, true);
          assert.equal(reporter.named('token').length, 1, 'not yet halfway: the cached token');
          now += 2_000; // 51 s into 100 s: past half the lifetime (the default 60 s renewal window is capped at half)
          assert.equal((await session.call('whoami', {})).ok, true);
          assert.equal(reporter.named('token').length, 2);
          assert.deepEqual(reporter.named('token_rejected'), []);
        } finally {
          demo.as.setTokenTtl(300);
        }
      });
    }

    if (verify === 'introspection') {
      test('a token refused as invalid_token is dropped and replaced once', async () => {
        let issued: string | undefined;
        const capture: typeof fetch = async (input, init) => {
          const response = await fetch(input, init);
          if (String(input).endsWith('/token')) issued = ((await response.clone().json()) as { access_token: string }).access_token;
          return response;
        };
        const { session, reporter } = await open({ fetch: capture });
        assert.equal((await session.call('whoami', {})).ok, true);
        demo.as.revoke(issued!);
        const first = issued;
        assert.equal((await session.call('whoami', {})).ok, true);
        assert.notEqual(issued, first);
        assert.deepEqual(reporter.named('token_rejected'), [{ event: 'token_rejected', description: 'the token is not active' }]);
      });
    }
  });
}
