import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, pkce, redeemCode, redirectParams } from '../helpers/user-flow.ts';

/**
 * Approvals inside the user's browser authorization request (issue 12 items 1–2), over real HTTP on both stores:
 * a scope whose policy is `admin_approval` (set, or the default of `critical`) no longer refuses the user; they consent,
 * the request waits on a page while an approval request sits in the queue, and "check again" continues to the
 * application with a code once an approver approved (or back to it with `access_denied` and the reason).
 */

const REDIRECT = 'https://app.example.com/callback';
let n = 0;

forEachStore('authorization requests that need an approver', (fixture) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(fixture);
    await createUser(server, 'ada@example.com');
  });
  after(() => server.close());

  async function setUp() {
    const uri = `https://approve-${++n}.example.com/mcp`;
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc', { name: 'wire', risk: 'high' }] });
    assert.equal(created.status, 201);
    // (A critical scope defaults to admin_approval too, but only a freshly signed-in user may decide it.)
    const { id } = (await created.json()) as { id: string };
    assert.equal((await server.admin('PUT', `/resources/${id}/policies/wire`, { policy: 'admin_approval' })).status, 200);
    await registerAgentAndResource(server, { audiences: [uri] }, uri);
    const app = await createApp(server, { redirect_uris: [REDIRECT], scopes: ['calc', 'wire'], audiences: [uri] });
    const { verifier, challenge } = pkce();
    const params = { response_type: 'code', client_id: app.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'st', scope: 'calc wire', resource: uri };
    return { uri, app, verifier, params };
  }

  /** The consent page's approval notice, then the waiting page: its "check again" URL and the approval id. */
  async function consentAndWait(params: Record<string, string>, browser: Browser) {
    const { response, consentPage } = await authorizeInBrowser(server, browser, params);
    assert.match(consentPage!, /an approver must approve this request too/);
    assert.equal(response.status, 200, 'the consented request waits on a page');
    const page = await response.text();
    assert.match(page, /Waiting for approval/);
    const check = /href="([^"]*\/authorize\/approval\?[^"]*)"/.exec(page)![1]!.replace(/&amp;/g, '&');
    const approvalId = new URL(check, server.issuer).searchParams.get('approval')!;
    assert.match(approvalId, /^apr_/);
    return { check: new URL(check, server.issuer).href, approvalId };
  }

  const decide = (id: string, decision: 'approve' | 'deny', reason = 'checked') => server.admin('POST', `/approvals/${id}/decision`, { decision, reason });

  test('POL-07 an admin_approval scope: the user consents, waits while pending, and gets a code once an approver approves; the token holds exactly the approved scopes', async () => {
    const { uri, app, verifier, params } = await setUp();
    const browser = new Browser();
    const { check, approvalId } = await consentAndWait(params, browser);

    const queued = (await (await server.admin('GET', `/approvals/${approvalId}`)).json()) as { status: string; scopes: string[]; resources: string[]; risk: string; client_id: string };
    assert.deepEqual([queued.status, queued.scopes, queued.resources, queued.risk, queued.client_id], ['pending', ['calc', 'wire'], [uri], 'high', app.clientId]);

    // Still pending: the page waits again, under a new request id (each check takes the kept request).
    const again = await browser.fetch(check);
    assert.equal(again.status, 200, await again.clone().text());
    const next = /href="([^"]*\/authorize\/approval\?[^"]*)"/.exec(await again.text())![1]!.replace(/&amp;/g, '&');
    assert.notEqual(new URL(next, server.issuer).href, check);
    assert.equal((await browser.fetch(check)).status, 400, 'an old check link is spent');

    assert.equal((await decide(approvalId, 'approve')).status, 200);
    const done = await browser.fetch(new URL(next, server.issuer).href);
    assert.equal(done.status, 302);
    const back = redirectParams(done);
    assert.equal(back.get('state'), 'st');
    const code = back.get('code');
    assert.ok(code, `a code: ${done.headers.get('location')}`);
    const redeemed = await redeemCode(server, { clientId: app.clientId, clientSecret: app.clientSecret!, scope: 'calc wire' }, code!, verifier);
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    assert.equal(((await redeemed.json()) as { scope: string }).scope, 'calc wire');
    assert.equal(((await (await server.admin('GET', `/approvals/${approvalId}`)).json()) as { used_at: number | null }).used_at !== null, true, 'the approval is used up');
  });

  test('POL-07 a denial comes back to the application as access_denied with the approver’s reason; a forged approval id is refused', async () => {
    const { params } = await setUp();
    const browser = new Browser();
    const { check, approvalId } = await consentAndWait(params, browser);
    assert.equal((await decide(approvalId, 'deny', 'not during the freeze')).status, 200);
    const back = redirectParams(await browser.fetch(check));
    assert.equal(back.get('error'), 'access_denied');
    assert.match(back.get('error_description')!, /an approver denied the request: not during the freeze/);

    // Another request's approval id does not unlock this one.
    // Consent is remembered now: the same request goes straight to the waiting page, with a new approval request.
    const waiting = await browser.fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...params, state: 'st2' })}`);
    assert.equal(waiting.status, 200);
    const second = { check: new URL(/href="([^"]*\/authorize\/approval\?[^"]*)"/.exec(await waiting.text())![1]!.replace(/&amp;/g, '&'), server.issuer).href };
    assert.notEqual(new URL(second.check).searchParams.get('approval'), approvalId, 'a denied request is not reused');
    const other = await setUp();
    const foreign = await consentAndWait(other.params, new Browser());
    assert.equal((await decide(foreign.approvalId, 'approve')).status, 200);
    const forged = new URL(second.check);
    forged.searchParams.set('approval', foreign.approvalId);
    const refused = redirectParams(await browser.fetch(forged.href));
    assert.equal(refused.get('error'), 'access_denied');
    assert.match(refused.get('error_description')!, /does not belong to this authorization request/);
  });

  test('POL-07 an approval request that expires undecided ends the wait with access_denied', async () => {
    const { params } = await setUp();
    const browser = new Browser();
    const { check } = await consentAndWait(params, browser);
    server.clock.advance(901);
    const gone = await browser.fetch(check);
    // The kept request expires with its approval request: the page says so rather than redirecting.
    assert.equal(gone.status, 400);
    assert.match(await gone.text(), /no longer valid/);
  });
});
