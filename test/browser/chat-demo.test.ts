import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ruleAgent } from '../../examples/chat/src/rule-agent.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import { type ChatStack, startChatStack } from '../helpers/chat-stack.ts';
import { PROCESS_TIMEOUT_MS } from '../helpers/processes.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-results/chat-demo/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';

/**
 * examples/chat in a real browser (Debian Chromium via playwright-core), on both stores (the approval queue is a
 * store's): the person asks "who am I logged in as?", the chat shows the sign-in inline, the popup signs in and
 * approves the agent, and the answer comes from userinfo and the MCP server's whoami (naming the person and the
 * agent); "run date -u" needs `exec`, whose policy wants an approver: the chat shows the approval notice, an
 * approver approves in the console, and the tool call completes. An approver's denial, and a scope a policy
 * refuses, are explained with their reasons. Screenshots go to test-results/chat-demo/.
 */
forEachStore('browser: examples/chat', (fixture) => {
  let stack: ChatStack;
  let browser: Browser;
  const cspViolations: string[] = [];

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    stack = await startChatStack(fixture, ruleAgent);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  after(async () => {
    if (skip) return;
    await browser?.close();
    await stack?.stop();
    assert.deepEqual(cspViolations, [], 'no page broke its CSP');
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    // Playwright waits for each page by its signal; the limit is only for a page that never comes.
    context.setDefaultTimeout(PROCESS_TIMEOUT_MS);
    context.on('page', (page) =>
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      }),
    );
    return { context, page: await context.newPage() };
  }

  /** One h1, a main landmark, every control labelled, every button and link named; then the screenshot. */
  async function shot(page: Page, name: string): Promise<void> {
    const problems = (await page.evaluate(`(() => {
      const found = [];
      if (document.querySelectorAll('h1').length !== 1) found.push('h1 count');
      if (!document.querySelector('main')) found.push('no main');
      for (const control of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
        if (control.labels.length === 0 && !control.getAttribute('aria-label')) found.push('unlabelled ' + control.name);
      }
      for (const element of document.querySelectorAll('button:not([hidden]), a')) {
        if (!(element.getAttribute('aria-label') || element.textContent || '').trim()) found.push('unnamed ' + element.outerHTML.slice(0, 60));
      }
      return found;
    })()`)) as string[];
    assert.deepEqual(problems, [], `accessibility basics of ${name}`);
    await page.screenshot({ path: `${SHOTS}${fixture.dialect}-${name}.png`, fullPage: true });
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.getByLabel('Message').fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#transcript .from-user', { hasText: text }).last().waitFor();
  }

  /** The n-th (1-based) answer of the agent. */
  const answer = (page: Page, n: number) => page.locator('#transcript .from-agent').nth(n - 1);

  /** Signs in through the popup the chat's sign-in link opens (login, then the consent page unless remembered). */
  async function signInThroughPopup(page: Page, shots: boolean): Promise<void> {
    const notice = page.locator('#transcript .sign-in.open');
    await notice.waitFor();
    if (shots) await shot(page, 'sign-in-needed');
    const [popup] = await Promise.all([page.waitForEvent('popup'), notice.getByRole('link', { name: /Sign in and approve the agent/ }).click()]);
    await popup.waitForURL(/\/login\?/);
    await popup.getByLabel('Email').fill(stack.users.ada);
    await popup.getByLabel('Password').fill(PASSWORD);
    await popup.getByRole('button', { name: 'Sign in', exact: true }).click();
    await popup.waitForURL((url) => url.pathname === '/authorize' || url.pathname === '/callback');
    if (new URL(popup.url()).pathname === '/authorize') {
      assert.match(await popup.getByRole('heading', { level: 1 }).innerText(), /Chat demo agent/);
      if (shots) await popup.screenshot({ path: `${SHOTS}${fixture.dialect}-consent.png`, fullPage: true });
      await popup.getByRole('button', { name: 'Approve' }).click();
      await popup.waitForURL((url) => url.pathname === '/callback');
    }
    assert.equal(await popup.title(), 'Signed in · Mandate demo chat');
    if (shots) await shot(popup, 'callback');
    // The button closes its own window: wait for the close, not for the click's aftermath (the page is gone by then).
    await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Close this window' }).click({ noWaitAfter: true }).catch(() => {})]);
    await page.locator('#transcript .sign-in.done').waitFor();
  }

  /** The approver signs in to the console and decides the request showing `binding`. */
  async function decideInConsole(binding: string, decision: 'Approve' | 'Deny', reason: string, shots: boolean): Promise<void> {
    const { context, page } = await newPage();
    await page.goto(`${stack.server.issuer}/admin/approvals`);
    await page.getByLabel('Email').fill(stack.users.approver);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/admin/approvals');
    const row = page.locator('#pending-approvals tbody tr', { hasText: binding });
    await row.waitFor();
    assert.match(await row.innerText(), /exec/);
    await row.getByLabel('Reason').fill(reason);
    if (shots) await page.screenshot({ path: `${SHOTS}${fixture.dialect}-console-approval.png`, fullPage: true });
    await row.getByRole('button', { name: new RegExp(`^${decision}`) }).click();
    await page.waitForURL(decision === 'Approve' ? /notice=approved/ : /notice=denied/);
    await context.close();
  }

  test('issue 12 item 9: sign-in inline, "who am I logged in as?" from userinfo and whoami; run_command waits for an approver, who approves in the console, and completes', { skip }, async () => {
    stack.polls.close();
    const { context, page } = await newPage();
    await page.goto(stack.chat.url);
    assert.equal(await page.title(), 'Chat · Mandate demo');

    await say(page, 'who am I logged in as?');
    await signInThroughPopup(page, true);
    // The message that needed the sign-in is answered once it is done.
    const who = await answer(page, 1).innerText();
    assert.match(who, new RegExp(`You are logged in as Ada Lovelace <${stack.users.ada}> \\(user ${stack.ids.ada}\\)`), who);
    assert.match(who, new RegExp(`sees user ${stack.ids.ada} with agent ${stack.agentId} acting for them`));
    assert.match(await page.locator('#signed-in').innerText(), /Signed in as ada@example\.com/);
    await shot(page, 'who-am-i');

    await say(page, 'add 2 and 3');
    assert.match(await answer(page, 2).innerText(), /2 \+ 3 = 5\./);

    await say(page, 'run date -u');
    const notice = page.locator('#transcript .approval').last();
    await notice.locator('q.binding').waitFor();
    assert.equal(await notice.getAttribute('data-status'), 'waiting');
    assert.match(await notice.innerText(), /Waiting for approval\.[\s\S]*run_command[\s\S]*exec/);
    const binding = await notice.locator('q.binding').innerText();
    assert.match(binding, /^Chat \d{4}: run_command for ada@example\.com$/);
    await shot(page, 'approval-waiting');

    await decideInConsole(binding, 'Approve', 'fine for the demo', true);
    stack.polls.open();
    await page.locator('#transcript .approval.approved').waitFor();
    const done = await answer(page, 3).innerText();
    assert.match(done, /The command "date -u" printed:\n\w{3} \w{3} +\d+ \d\d:\d\d:\d\d UTC \d{4}/, done);
    assert.equal(await page.locator('#transcript .tool-call.ok', { hasText: 'run_command' }).count(), 1);
    await shot(page, 'approved');
    await context.close();
  });

  test('issue 12 item 9: a denial is explained with the approver’s reason; a scope refused by a deny policy is explained with the policy', { skip }, async () => {
    stack.polls.close();
    const { context, page } = await newPage();
    await page.goto(stack.chat.url);
    await say(page, 'run date -u');
    await signInThroughPopup(page, false);
    const notice = page.locator('#transcript .approval').last();
    await notice.locator('q.binding').waitFor();
    const binding = await notice.locator('q.binding').innerText();
    await decideInConsole(binding, 'Deny', 'no commands during the board meeting', false);
    stack.polls.open();
    await page.locator('#transcript .approval.denied').waitFor();
    assert.match(await page.locator('#transcript .approval.denied').innerText(), /Denied\.[\s\S]*no commands during the board meeting/);
    assert.match(await answer(page, 1).innerText(), /I could not run run_command; it was not approved \(the request was denied: no commands during the board meeting\)/);

    await say(page, 'write "hello" to notes/hi.txt');
    const refused = page.locator('#transcript .approval.refused');
    await refused.waitFor();
    assert.match(await refused.innerText(), /Refused\.[\s\S]*files:write[\s\S]*refused by policy deny \(v1\) of scope files:write/);
    assert.match(await answer(page, 2).innerText(), /refused by policy deny/);
    await shot(page, 'denied');
    await context.close();
  });
});
