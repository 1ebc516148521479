import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { AgentAuthClient } from '../../src/agent/client.ts';
import { listenForCallback } from '../../src/agent/loopback.ts';
import { AuthorizationStateMismatch } from '../../src/errors.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

/** A raw GET with a chosen Host header (fetch does not let one set it). */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('loopback redirect listener (RFC 8252 §7.3)', () => {
  test('listens on 127.0.0.1 on an ephemeral port; other paths, methods and Host headers are answered and ignored; one real response ends it', async () => {
    const seen: string[] = [];
    const listener = await listenForCallback({ handle: async (url) => (seen.push(url.search), url.searchParams.get('code')) });
    const { port, hostname } = new URL(listener.redirectUri);
    assert.equal(hostname, '127.0.0.1');
    assert.match(listener.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.ok(Number(port) > 0);

    assert.equal((await get(`http://127.0.0.1:${port}/favicon.ico`)).status, 404);
    assert.equal((await get(`${listener.redirectUri}?code=x`, { host: `attacker.example:${port}` })).status, 400, 'DNS rebinding: another Host');
    assert.equal((await get(`${listener.redirectUri}?code=x`, {}, 'POST')).status, 405);
    assert.deepEqual(seen, []);

    const page = await get(`${listener.redirectUri}?code=abc&state=s`);
    assert.equal(page.status, 200);
    assert.match(page.body, /Signed in/);
    assert.doesNotMatch(page.body, /abc/, 'nothing from the request is echoed');
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(await listener.result, 'abc');
    await assert.rejects(get(listener.redirectUri), { code: 'ECONNREFUSED' });
  });

  test('an ignorable failure (a state of no pending request) → 400, the wait goes on; any other failure ends it with that error', async () => {
    const ignored: unknown[] = [];
    const listener = await listenForCallback<string>({
      handle: async (url) => {
        if (url.searchParams.get('state') !== 'good') throw new AuthorizationStateMismatch();
        throw new Error('boom <script>');
      },
      isIgnorable: (err) => err instanceof AuthorizationStateMismatch,
      onIgnored: (err) => ignored.push(err),
    });
    const forged = await get(`${listener.redirectUri}?code=x&state=forged`);
    assert.equal(forged.status, 400);
    assert.match(forged.body, /Not the expected sign-in/);
    assert.equal((ignored[0] as { code: string }).code, 'ERR_AUTHORIZATION_STATE_MISMATCH');
    const failed = await get(`${listener.redirectUri}?code=x&state=good`);
    assert.equal(failed.status, 400);
    assert.match(failed.body, /did not complete/);
    assert.doesNotMatch(failed.body, /boom|<script>/);
    await assert.rejects(listener.result, /boom/);
  });

  test('no response in time → ERR_AUTHORIZATION_TIMEOUT and the port is released; close() → AbortError', async () => {
    const timed = await listenForCallback({ timeoutMs: 50, handle: async () => 'never' });
    await assert.rejects(timed.result, { code: 'ERR_AUTHORIZATION_TIMEOUT' });
    await assert.rejects(get(timed.redirectUri), { code: 'ECONNREFUSED' });
    const closed = await listenForCallback({ handle: async () => 'never' });
    await closed.close();
    await assert.rejects(closed.result, { name: 'AbortError' });
  });

  test('a fixed port and path; a port in use is an error; misuse (0.0.0.0, localhost, bad path) → TypeError', async () => {
    const first = await listenForCallback({ port: 0, path: '/oauth/cb', handle: async () => 1 });
    const port = Number(new URL(first.redirectUri).port);
    assert.equal(new URL(first.redirectUri).pathname, '/oauth/cb');
    await assert.rejects(listenForCallback({ port, handle: async () => 1 }), { code: 'EADDRINUSE' });
    await first.close();
    const again = await listenForCallback({ port, handle: async () => 1 });
    assert.equal(again.redirectUri, `http://127.0.0.1:${port}/callback`);
    await again.close();
    await assert.rejects(listenForCallback({ host: '0.0.0.0' as '127.0.0.1', handle: async () => 1 }), TypeError);
    await assert.rejects(listenForCallback({ host: 'localhost' as '127.0.0.1', handle: async () => 1 }), TypeError);
    await assert.rejects(listenForCallback({ path: 'cb', handle: async () => 1 }), TypeError);
    await assert.rejects(listenForCallback({ port: 70_000, handle: async () => 1 }), TypeError);
  });
});

describe('startLoopbackAuthorization: crafted redirects to the listener', () => {
  let as: TestIssuer;
  before(async () => {
    as = await startTestIssuer();
    as.addClient({ clientId: 'agt_alpha', secret: 's' });
    as.setMetadataExtra({ authorization_response_iss_parameter_supported: true });
  });
  after(() => as.close());
  const agent = () => new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: 's', app: { clientId: 'app_demo' } });

  test('BCP-08 a forged state is refused and ignored (onIgnoredCallback), then ISS-02 a wrong iss with the real state ends the sign-in: ERR_AUTHORIZATION_ISSUER_MISMATCH, no code redeemed', async () => {
    const ignored: { code?: string }[] = [];
    const signIn = await agent().startLoopbackAuthorization({ scope: 'files:read', onIgnoredCallback: (err) => ignored.push(err as { code?: string }) });
    const state = new URL(signIn.url).searchParams.get('state')!;
    assert.equal(new URL(signIn.url).searchParams.get('redirect_uri'), signIn.redirectUri);
    const tokenRequests = as.counts.token;

    assert.equal((await get(`${signIn.redirectUri}?code=c&state=forged&iss=${encodeURIComponent(as.issuer)}`)).status, 400);
    assert.equal((await get(`${signIn.redirectUri}?code=c&iss=${encodeURIComponent(as.issuer)}`)).status, 400);
    assert.deepEqual(ignored.map((e) => e.code), ['ERR_AUTHORIZATION_STATE_MISMATCH', 'ERR_AUTHORIZATION_STATE_MISMATCH']);

    const page = await get(`${signIn.redirectUri}?code=c&state=${state}&iss=${encodeURIComponent('https://attacker.example')}`);
    assert.equal(page.status, 400);
    assert.match(page.body, /ERR_AUTHORIZATION_ISSUER_MISMATCH/);
    await assert.rejects(signIn.tokens, { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH' });
    assert.equal(as.counts.token, tokenRequests, 'no token request was made');
  });

  test('an error response with the right state and iss → ERR_AUTHORIZATION_DENIED; the page names the error code only', async () => {
    const signIn = await agent().startLoopbackAuthorization({ scope: 'files:read' });
    const state = new URL(signIn.url).searchParams.get('state')!;
    const page = await get(`${signIn.redirectUri}?error=access_denied&error_description=${encodeURIComponent('<b>phish</b>')}&state=${state}&iss=${encodeURIComponent(as.issuer)}`);
    assert.match(page.body, /ERR_AUTHORIZATION_DENIED: access_denied/);
    assert.doesNotMatch(page.body, /phish/);
    await assert.rejects(signIn.tokens, { code: 'ERR_AUTHORIZATION_DENIED', error: 'access_denied' });
  });

  test('close() before the browser returns: the pending request is forgotten', async () => {
    const client = agent();
    const signIn = await client.startLoopbackAuthorization({ scope: 'files:read' });
    const state = new URL(signIn.url).searchParams.get('state')!;
    await signIn.close();
    await assert.rejects(signIn.tokens, { name: 'AbortError' });
    assert.throws(() => client.handleCallback(`${signIn.redirectUri}?code=c&state=${state}&iss=${encodeURIComponent(as.issuer)}`), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' });
  });
});
