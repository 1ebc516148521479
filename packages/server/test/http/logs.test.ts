import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createApp, createUser, obtainCode, PASSWORD, redeemCode } from '../helpers/user-flow.ts';

/**
 * Issue 13 item 5: the server's log is JSON lines with request ids, and a full flow leaves no secret in it, at the
 * most verbose level with a line per request: no token, client secret, API key, admin token, code, PKCE verifier,
 * password, session cookie or KEK.
 */
forEachStore('structured logs', (fixture) => {
  test('OPS-logs a full flow logs JSON lines with request ids, and no token, secret, code, cookie or password', async () => {
    const lines: string[] = [];
    const logStream = { write: (line: string) => void lines.push(line) };
    const t = await startTestServer(fixture, { logLevel: 'debug', logRequests: true }, { logStream });
    const secrets = new Map<string, string>([['admin token', t.adminToken], ['KEK', t.config.keys.kek!], ['password', PASSWORD]]);
    try {
      const agent = await registerAgentAndResource(t);
      secrets.set('agent secret', agent.clientSecret).set('API key', agent.apiKey);
      await createUser(t, 'ada@example.com');
      const app = await createApp(t, { scopes: ['calc'], audiences: [MCP_RESOURCE] });
      secrets.set('client secret', app.clientSecret!);

      const cc = await t.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
      const agentToken = ((await cc.json()) as { access_token: string }).access_token;
      secrets.set('agent access token', agentToken);
      const introspected = await t.postForm('/introspect', { token: agentToken }, { authorization: `Bearer ${agent.apiKey}` });
      assert.equal(introspected.status, 200);

      const browser = new Browser();
      const flow = { clientId: app.clientId, clientSecret: app.clientSecret, scope: 'openid offline_access calc', resource: MCP_RESOURCE };
      const { code, verifier } = await obtainCode(t, flow, browser);
      secrets.set('code', code).set('PKCE verifier', verifier);
      for (const [name, value] of browser.cookies) secrets.set(`cookie ${name}`, value);
      const redeemed = (await (await redeemCode(t, flow, code, verifier)).json()) as { access_token: string; refresh_token: string; id_token: string };
      secrets.set('user access token', redeemed.access_token).set('refresh token', redeemed.refresh_token).set('ID token', redeemed.id_token);
      const wrong = 'not the password, but secret too';
      secrets.set('wrong password', wrong);
      // Refused before the password is even read (no CSRF token): the form is still never logged.
      await new Browser().postForm(`${t.issuer}/login`, { email: 'ada@example.com', password: wrong, csrf: 'x', return_to: '/' });

      const refreshed = await t.postForm('/token', { grant_type: 'refresh_token', refresh_token: redeemed.refresh_token }, { authorization: basicAuth(app.clientId, app.clientSecret!) });
      const rotated = (await refreshed.json()) as { access_token: string; refresh_token: string };
      secrets.set('refreshed access token', rotated.access_token).set('rotated refresh token', rotated.refresh_token);
      assert.equal(refreshed.status, 200);
      // Answered or refused (a token for the resource alone), the bearer token is not logged either way.
      await fetch(`${t.issuer}/userinfo`, { headers: { authorization: `Bearer ${rotated.access_token}` } });
      const revoke = await t.postForm('/revoke', { token: rotated.refresh_token }, { authorization: basicAuth(app.clientId, app.clientSecret!) });
      assert.equal(revoke.status, 200);
      // A replayed code and a wrong password: refusals are logged (and audited) without what was presented.
      assert.equal((await redeemCode(t, flow, code, verifier)).status, 400);
      const traced = await fetch(`${t.issuer}/healthz`, { headers: { 'x-request-id': 'trace-me-1' } });
      assert.equal(traced.status, 200);
    } finally {
      await t.close();
    }

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = entries.filter((entry) => entry['msg'] === 'request');
    assert.ok(requests.length >= 15, `one line per request, got ${requests.length}`);
    for (const entry of requests) {
      assert.equal(typeof entry['reqId'], 'string');
      assert.equal(typeof entry['status'], 'number');
      assert.doesNotMatch(String(entry['path']), /\?/, 'paths are logged without their query');
    }
    assert.ok(requests.some((entry) => entry['reqId'] === 'trace-me-1' && entry['path'] === '/healthz'), 'the caller’s request id is the one logged');
    assert.ok(requests.some((entry) => entry['route'] === '/token' && entry['status'] === 400), 'refusals are logged too');
    const text = lines.join('');
    for (const [name, value] of secrets) {
      assert.ok(value.length >= 8, `${name} is a real secret`);
      assert.ok(!text.includes(value), `the log holds the ${name}`);
    }
  });
});
