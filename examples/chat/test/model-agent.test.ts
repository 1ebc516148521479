import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FakeChatCompletions, startFakeChatCompletions } from '../../agent/test/helpers/fake-chat-completions.ts';
import { forEachStore } from '../../../packages/server/test/helpers/stores.ts';
import { Browser, inputValue, PASSWORD } from '../../../packages/server/test/helpers/user-flow.ts';
import { type ChatStack, type FollowedTranscript, followTranscript, startChatStack } from '../../../test/helpers/chat-stack.ts';
import { signInAndConsent } from '../../../test/helpers/sign-in.ts';
import { modelAgent } from '../src/model-agent.ts';

/**
 * The chat with a model (the OpenAI chat-completions wire format, tool calls included) instead of the offline rules:
 * a local HTTP server in the test speaks the format and stands in for the model; everything else is real (the AS on
 * both stores, the demo MCP server, the chat server, its event stream). The person signs in through the chat's
 * `/login` and `/callback` in a cookie-jar browser, the model asks for `userinfo` and `whoami`, then for `run_command`,
 * which an approver denies through the approvals API: the model reads the denial with its reason.
 */
forEachStore('examples/chat with an OpenAI-compatible model', (fixture) => {
  let fake: FakeChatCompletions;
  let stack: ChatStack;
  const jar = new Browser();
  let csrf: string;
  let transcript: FollowedTranscript;

  before(async () => {
    fake = await startFakeChatCompletions((request, index) => {
      const last = request.body.messages.at(-1)!;
      if (index === 0) return { toolCalls: [{ name: 'userinfo', arguments: {} }, { name: 'whoami', arguments: {} }] };
      if (index === 1) return { content: `You are ${JSON.parse(request.body.messages.at(-2)!.content!).email}.` };
      if (index === 2) return { toolCalls: [{ name: 'run_command', arguments: { command: 'date -u' } }] };
      return { content: `Not run: ${last.content}` };
    });
    stack = await startChatStack(fixture, modelAgent({ baseUrl: fake.baseUrl, apiKey: 'sk-local', model: 'local-model', maxRequests: 4 }), 'model local-model');
    csrf = inputValue(await (await jar.fetch(stack.chat.url)).text(), 'csrf');
    transcript = await followTranscript(jar, stack.chat.url);
  });
  after(async () => {
    transcript?.stop();
    await stack?.stop();
    await fake?.close();
  });

  const entry = (pattern: RegExp) => transcript.entry(pattern);

  const say = (text: string) => jar.postForm(`${stack.chat.url}messages`, { csrf, text });

  test('issue 12 item 9: the model gets the MCP tools and userinfo as functions, and its tool calls run for the signed-in person', async () => {
    stack.polls.close();
    assert.equal((await say('who am I logged in as?')).status, 303);
    await entry(/class="entry notice sign-in open"/);
    const login = await jar.fetch(`${stack.chat.url}login`);
    assert.equal(login.status, 302);
    const { location } = await signInAndConsent(login.headers.get('location')!, { email: stack.users.ada, password: PASSWORD });
    assert.equal((await jar.fetch(location)).status, 200);

    assert.match(await entry(/from-agent/), /You are ada@example\.com\./);
    const [first, second] = fake.requests;
    assert.equal(first!.authorization, 'Bearer sk-local');
    assert.equal(first!.body.model, 'local-model');
    assert.deepEqual(first!.body.tools.map((t) => t.function.name).sort(), ['add', 'list_files', 'read_file', 'run_command', 'userinfo', 'whoami', 'write_file']);
    assert.equal(first!.body.messages.at(-1)!.content, 'who am I logged in as?');
    const results = second!.body.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content!) as Record<string, unknown>);
    assert.deepEqual(results[0], { sub: stack.ids.ada, email: stack.users.ada, email_verified: true, name: 'Ada Lovelace' });
    assert.equal(results[1]!['subject'], stack.ids.ada, 'whoami names the person');
    assert.equal(results[1]!['agent'], stack.agentId, 'and the agent acting for them');
  });

  test('issue 12 item 9: a tool call an approver denies reaches the model with the reason', async () => {
    stack.polls.close();
    await say('what time is it?');
    const waiting = await entry(/data-status="waiting"/);
    const binding = /<q class="binding">([^<]*)<\/q>/.exec(waiting)![1]!;
    const tokenResponse = await stack.server.admin('POST', '/admin-tokens', { name: 'alan', role: 'approver', user: stack.users.approver });
    const { token } = (await tokenResponse.json()) as { token: string };
    const pending = (await (await stack.server.admin('GET', '/approvals?status=pending')).json()) as { approvals: { id: string; justification: string }[] };
    const request = pending.approvals.find((a) => a.justification === binding);
    assert.ok(request, `the approval request "${binding}" is queued`);
    const decision = await fetch(`${stack.server.issuer}/admin/v1/approvals/${request.id}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'deny', reason: 'not now' }),
    });
    assert.equal(decision.status, 200, await decision.clone().text());
    stack.polls.open();
    assert.match(await entry(/data-status="denied"/), /the request was denied: not now/);
    assert.match(await entry(/Not run:/), /Not run: not approved: the request was denied: not now/);
  });
  test('the chat refuses a message without its CSRF token or from another browser, and its pages carry a CSP without inline script', async () => {
    assert.equal((await jar.postForm(`${stack.chat.url}messages`, { csrf: 'forged', text: 'run date -u' })).status, 403);
    assert.equal((await new Browser().postForm(`${stack.chat.url}messages`, { csrf, text: 'run date -u' })).status, 403);
    const page = await jar.fetch(stack.chat.url);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'; script-src 'self';.*frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.doesNotMatch(await page.text(), /<script>|style=/);
    // A callback this conversation did not start is refused.
    const stray = await jar.fetch(`${stack.chat.url}callback?code=x&state=not-ours`);
    assert.equal(stray.status, 400);
  });
  test('issue 12 item 9: when the person’s authorization is gone (the user disabled, the refresh refused), the chat asks them to sign in again', async () => {
    const disabled = await stack.server.admin('POST', `/users/${stack.ids.ada}/disable`);
    assert.equal(disabled.status, 200, await disabled.clone().text());
    // Past the access token's lifetime: the agent must refresh, and the refresh is refused.
    stack.server.clock.advance(901);
    assert.equal((await say('list files')).status, 303);
    await entry(/sign-in open/);
    assert.equal([...fake.requests].length, 4, 'the model was not asked: there was nobody to act for');
  });
});
