import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { Browser, inputValue } from '../../packages/server/test/helpers/user-flow.ts';
import { followTranscript } from '../helpers/chat-stack.ts';
import { type RunningProcess, startProcess } from '../helpers/demo-processes.ts';
import { type McpStack, startMcpStack } from '../helpers/mcp-stack.ts';
import { REPO_ROOT } from '../helpers/processes.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

const CHAT_MAIN = `${REPO_ROOT}examples/chat/src/main.ts`;

/**
 * `npm run chat` as a process next to `mandate serve` and the demo MCP server (as `npm start` runs them): it creates
 * its agent and confidential application with `mandate` commands, keeps them in `.mandate/chat-demo.json` (0600),
 * and serves the chat; a person signs in through its `/login` and `/callback` and "who am I logged in as?" is
 * answered from userinfo and whoami.
 */
forEachStore('e2e: npm run chat', (fixture) => {
  let stack: McpStack;
  let chat: RunningProcess & { match: RegExpExecArray };
  let workdir: string;

  before(async () => {
    stack = await startMcpStack(fixture.url, 'ada@example.com');
    workdir = mkdtempSync(join(tmpdir(), 'mandate-chat-'));
    const env = { ...stack.env, MANDATE_ISSUER: stack.as.issuer, MCP_URL: stack.mcp.resource, CHAT_PORT: String(await freePort()) };
    chat = await startProcess([CHAT_MAIN], env, /^Demo chat on (\S+) \(agent (\S+)\)/, { cwd: workdir });
  });
  after(async () => {
    await chat?.stop();
    await stack?.stop();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  test('issue 12 item 9: it sets itself up through mandate commands, the person signs in, and "who am I logged in as?" names them and the agent', async () => {
    const [, url, agentId] = chat.match as unknown as [string, string, string];
    const state = join(workdir, '.mandate', 'chat-demo.json');
    assert.ok(existsSync(state));
    assert.equal(statSync(state).mode & 0o777, 0o600, 'the file holding the secrets is the user’s alone');

    const jar = new Browser();
    const csrf = inputValue(await (await jar.fetch(url)).text(), 'csrf');
    const transcript = await followTranscript(jar, url);
    try {
      assert.equal((await jar.postForm(`${url}messages`, { csrf, text: 'who am I logged in as?' })).status, 303);
      await transcript.entry(/sign-in open/);
      const login = await jar.fetch(`${url}login`);
      const { location, consentPage } = await signInAndConsent(login.headers.get('location')!, { email: stack.email });
      assert.match(consentPage, /Chat demo agent/);
      assert.equal((await jar.fetch(location)).status, 200);
      const answer = await transcript.entry(/from-agent/);
      assert.match(answer, new RegExp(`You are logged in as &#60;ada@example\\.com&#62; \\(user ${stack.userId}\\)`));
      assert.match(answer, new RegExp(`sees user ${stack.userId} with agent ${agentId} acting for them`));
    } finally {
      transcript.stop();
    }
  });
});
