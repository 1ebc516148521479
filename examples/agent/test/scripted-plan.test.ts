import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type DemoFixture, startDemoFixture } from '../../mcp-server/test/helpers/demo-fixture.ts';
import { openMcpSession } from '../src/mcp-session.ts';
import { runScriptedPlan } from '../src/scripted-plan.ts';
import { recordingReporter } from './helpers/recording-reporter.ts';

describe('scripted plan (demo MCP server, fixture AS)', () => {
  // A fresh fixture (and sandbox) for every test: one of them writes agent-notes.txt, another asserts it is absent.
  let demo: DemoFixture;
  beforeEach(async () => {
    demo = await startDemoFixture();
    demo.as.addClient({ clientId: 'agt_plan', secret: 'plan-secret' });
  });
  afterEach(() => demo.close());

  async function runPlan(scope: string) {
    const reporter = recordingReporter();
    const session = await openMcpSession({ issuer: demo.as.issuer, clientId: 'agt_plan', clientSecret: 'plan-secret', mcpUrl: demo.server.resource, scope, reporter });
    try {
      return { ok: await runScriptedPlan(session, reporter), reporter };
    } finally {
      await session.close();
    }
  }

  const outcomes = (reporter: ReturnType<typeof recordingReporter>) =>
    reporter.named('step').map((e) => [e['tool'], (e['outcome'] as { kind: string }).kind]);

  test('default scopes: four steps succeed, write_file is refused with 403 insufficient_scope as expected', async () => {
    const { ok, reporter } = await runPlan('calc files:read');
    assert.equal(ok, true);
    assert.deepEqual(outcomes(reporter), [['whoami', 'result'], ['add', 'result'], ['list_files', 'result'], ['read_file', 'result'], ['write_file', 'refused']]);
    const read = reporter.named('step')[3]!;
    assert.deepEqual(read['arguments'], { path: 'hello.txt' });
    assert.deepEqual(reporter.named('done'), [{ event: 'done', ok: true, unexpected: [] }]);
    assert.equal(existsSync(join(demo.sandboxDir, 'agent-notes.txt')), false);
  });

  test('with files:write the write is expected to succeed, and does', async () => {
    const { ok, reporter } = await runPlan('calc files:read files:write');
    assert.equal(ok, true);
    assert.equal(outcomes(reporter).at(-1)?.[1], 'result');
    assert.equal(existsSync(join(demo.sandboxDir, 'agent-notes.txt')), true);
  });

  test('without calc the add step fails and the plan says so', async () => {
    const { ok, reporter } = await runPlan('files:read');
    assert.equal(ok, false);
    assert.deepEqual(reporter.named('done'), [{ event: 'done', ok: false, unexpected: ['add'] }]);
  });
});
