import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * Property: whatever arrives at the OAuth endpoints (wrong methods, content types, encodings, repeated or huge
 * parameters, garbage credentials and tokens), the answer is a precise 4xx in the endpoint's format, never a 5xx.
 * 1,800 requests per endpoint per store: 5,400 on SQLite and 5,400 on PostgreSQL. Every field (parameter names and
 * values, Basic credentials, bearer tokens) may carry text the database cannot store: a NUL, an unpaired surrogate,
 * an invalid UTF-8 percent-encoding (SR-11). The same holds for `/authorize`, the login form and the admin API
 * (ids, filters, JSON bodies), 600 requests each per store.
 */

const RUNS_PER_ENDPOINT = 1800;
const RUNS_PER_OTHER_ENDPOINT = 600;
const PARAM_NAMES = [
  'grant_type', 'client_id', 'client_secret', 'scope', 'resource', 'audience', 'token', 'token_type_hint',
  'client_assertion', 'client_assertion_type', 'code', 'redirect_uri', 'refresh_token', 'subject_token', '',
];

interface Sent {
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Raw HTTP, so malformed headers and bodies reach the server exactly as generated (fetch would normalise them). */
function send(url: URL, sent: Sent): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: sent.method, headers: sent.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(sent.body);
  });
}

/** Text a database cannot hold as it is, spliced into an otherwise ordinary string at a random place. */
const unstorable = fc
  .tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0000\u0000', 'a\u0000b', '\ud83d'), fc.string({ maxLength: 20 }))
  .map(([before, bad, after]) => `${before}${bad}${after}`);

function arbitraries(path: string, valid: { clientId: string; clientSecret: string; apiKey: string; token: string }) {
  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    unstorable,
    fc.constantFrom('client_credentials', 'authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange', valid.clientId, valid.clientSecret,
      valid.token, `${valid.token}x`, 'https://mcp.example.com/mcp', 'https://mcp.example.com/mcp#x', 'calc', 'calc files:read exec', '%zz', '%', '\u0000', 'a'.repeat(5000),
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'access_token'),
  );
  const name = fc.oneof({ arbitrary: fc.constantFrom(...PARAM_NAMES), weight: 6 }, { arbitrary: unstorable, weight: 1 });
  const formBody = fc.array(fc.tuple(name, text), { maxLength: 8 }).map((pairs) => {
    const body = new URLSearchParams();
    for (const [name, value] of pairs) body.append(name, value);
    return body.toString();
  });
  const rawBody = fc.oneof(
    formBody,
    fc.string({ maxLength: 200 }),
    fc.constantFrom('{"grant_type":"client_credentials"}', '&&&==&=', 'grant_type=client_credentials&grant_type=client_credentials', '%E0%A4%A', 'a'.repeat(70_000),
      'grant_type=client_credentials&client_id=%00', 'token=%ED%A0%80', 'token=%C0%80&x=%FF', 'grant_type=client_credentials\u0000'),
  );
  const contentType = fc.option(
    fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', 'application/json', 'text/plain',
      'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded;;;', 'APPLICATION/X-WWW-FORM-URLENCODED', '*/*', ''),
    { nil: undefined },
  );
  const authorization = fc.option(
    fc.oneof(
      fc.constantFrom(basicAuth(valid.clientId, valid.clientSecret), `Bearer ${valid.apiKey}`, 'Basic', 'Basic !!!', 'Basic Og==', 'Bearer', 'Bearer mrk_.', 'Digest x', `Basic ${Buffer.from(`${valid.clientId}:%zz`).toString('base64')}`),
      fc.string({ maxLength: 60 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
      fc
        .tuple(fc.oneof(unstorable, fc.constant(valid.clientId)), fc.oneof(unstorable, fc.constant(valid.clientSecret)))
        .map(([id, secret]) => `Basic ${Buffer.from(`${encodeLenient(id)}:${encodeLenient(secret)}`).toString('base64')}`),
      unstorable.map((s) => `Basic ${Buffer.from(`${valid.clientId}${s}:${valid.clientSecret}`).toString('base64')}`),
      fc.string({ maxLength: 60 }).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, '')}`),
    ),
    { nil: undefined },
  );
  const random = fc.record({
    method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
    contentType,
    authorization,
    body: rawBody,
  });
  // A well-formed request for this endpoint, with a random extra parameter: keeps the success path in play.
  const wellFormed = fc.tuple(fc.constantFrom(...PARAM_NAMES.filter((n) => n !== 'grant_type' && n !== 'token')), text, fc.boolean()).map(([name, value, keep]) => {
    const base = path === '/token' ? 'grant_type=client_credentials' : `token=${valid.token}`;
    return {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded' as string | undefined,
      authorization: (path === '/introspect' ? `Bearer ${valid.apiKey}` : basicAuth(valid.clientId, valid.clientSecret)) as string | undefined,
      body: keep ? base : `${base}&${new URLSearchParams([[name, value]])}`,
    };
  });
  return fc.oneof({ arbitrary: random, weight: 4 }, { arbitrary: wellFormed, weight: 1 });
}

/**
 * Percent-encodes text for a URL even when it is not Unicode (a lone surrogate has no UTF-8: it is sent as the
 * invalid sequence it would need), with raw invalid encodings mixed in.
 */
const urlText = fc.oneof(
  fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)),
  unstorable.map(encodeLenient),
  fc.constantFrom('%00', '%ED%A0%80', '%C0%80', '%FF', '%E0%A4%A', '%zz', '%', 'agt_x%00', ''),
);

const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'scope', 'state', 'nonce', 'resource', 'requested_actor', 'prompt', 'max_age'];
const JSON_FIELDS = ['name', 'description', 'owner', 'scopes', 'audiences', 'access_token_ttl_seconds', 'token_endpoint_auth_method', 'jwks', 'resource', 'redirect_uris', 'email'];

/** Requests for `/authorize`, the login form and the admin API, each field free to carry unstorable text. */
function browserAndAdminArbitraries(valid: { clientId: string; appId: string; adminToken: string }) {
  const text = fc.oneof(fc.string({ maxLength: 30 }), unstorable, fc.constantFrom(valid.clientId, valid.appId, 'code', 'S256', 'calc', 'https://app.example.com/callback', 'x'.repeat(43)));
  const query = fc
    .array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...AUTHORIZE_PARAMS), weight: 5 }, { arbitrary: unstorable, weight: 1 }), text), { maxLength: 10 })
    .map((pairs) => pairs.map(([name, value]) => `${encodeLenient(name)}=${encodeLenient(value)}`).join('&'));
  const authorize = query.map((q) => ({ method: 'GET', path: `/authorize?${q}`, headers: {} as Record<string, string>, body: undefined as string | undefined }));
  const login = fc.array(fc.tuple(fc.constantFrom('email', 'password', 'csrf', 'return_to', ''), text), { maxLength: 5 }).map((pairs) => ({
    method: 'POST',
    path: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' } as Record<string, string>,
    body: pairs.map(([name, value]) => `${encodeLenient(name)}=${encodeLenient(value)}`).join('&') as string | undefined,
  }));
  const admin = { authorization: `Bearer ${valid.adminToken}` };
  const adminRead = fc.tuple(fc.constantFrom('agents', 'users', 'clients', 'resources', 'admin-tokens'), urlText, fc.constantFrom('', '/disable', '/enable')).map(([kind, id, action]) => ({
    method: action ? 'POST' : 'GET',
    path: `/admin/v1/${kind}/${id || 'x'}${action}`,
    headers: admin as Record<string, string>,
    body: undefined as string | undefined,
  }));
  const auditFilter = fc.array(fc.tuple(fc.constantFrom('event', 'principal', 'client_id', 'since', 'until', 'limit', 'x'), urlText), { maxLength: 4 }).map((pairs) => ({
    method: 'GET',
    path: `/admin/v1/audit?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`,
    headers: admin as Record<string, string>,
    body: undefined as string | undefined,
  }));
  const jsonValue = fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.integer(), fc.boolean(), fc.constant(null));
  const adminWrite = fc
    .tuple(fc.constantFrom('agents', 'clients', 'resources'), fc.dictionary(fc.oneof({ arbitrary: fc.constantFrom(...JSON_FIELDS), weight: 5 }, { arbitrary: unstorable, weight: 1 }), jsonValue, { maxKeys: 6 }))
    .map(([kind, body]) => ({ method: 'POST', path: `/admin/v1/${kind}`, headers: { ...admin, 'content-type': 'application/json' } as Record<string, string>, body: JSON.stringify(body) as string | undefined }));
  return fc.oneof(authorize, login, adminRead, auditFilter, adminWrite);
}

/** encodeURIComponent that sends a lone surrogate as the invalid UTF-8 it would need instead of throwing. */
function encodeLenient(value: string): string {
  return [...value].map((c) => (c.isWellFormed() ? encodeURIComponent(c) : '%ED%A0%80')).join('');
}

forEachStore('malformed requests (property)', (fixture) => {
  let server: TestServer;
  let valid: { clientId: string; clientSecret: string; apiKey: string; token: string };

  before(async () => {
    server = await startTestServer(fixture, { rateLimit: { tokenPerClientPerMinute: 0, tokenPerIpPerMinute: 0 } });
    const agent = await registerAgentAndResource(server);
    const response = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    valid = { ...agent, token: ((await response.json()) as { access_token: string }).access_token };
  });
  after(() => server.close());

  for (const path of ['/token', '/introspect', '/revoke']) {
    test(`${path}: ${RUNS_PER_ENDPOINT} random and malformed requests, no 5xx, every error in RFC 6749 JSON or problem+json`, async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(arbitraries(path, valid), async (input) => {
          const body = input.method === 'GET' ? undefined : Buffer.from(input.body);
          const headers: Record<string, string> = {};
          if (input.contentType !== undefined) headers['content-type'] = input.contentType;
          if (input.authorization !== undefined) headers['authorization'] = input.authorization;
          // Always frame the body: node's client sends a DELETE body unframed, which is a broken HTTP stream (node's own
          // parser answers it), not a malformed OAuth request.
          if (body) headers['content-length'] = String(body.length);
          const response = await send(new URL(`${server.issuer}${path}`), { method: input.method, headers, body });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          assert.ok(response.status < 500, `${response.status} ${response.body}`);
          if (response.status >= 400) {
            assert.match(response.contentType, /^application\/(problem\+)?json/, `${response.status} ${response.contentType}`);
            const parsed = JSON.parse(response.body) as Record<string, unknown>;
            assert.ok(typeof parsed['error'] === 'string' || typeof parsed['type'] === 'string', response.body);
            assert.doesNotMatch(response.body, /at .*\.ts:\d+/, 'no stack trace');
          }
        }),
        { numRuns: RUNS_PER_ENDPOINT, seed: Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31) },
      );
      // The generators must actually reach the success paths as well as the error paths.
      assert.ok([...statuses.keys()].some((s) => s === 200), `statuses seen: ${JSON.stringify([...statuses])}`);
      assert.ok([...statuses.keys()].some((s) => s >= 400), `statuses seen: ${JSON.stringify([...statuses])}`);
    });
  }

  test(`SR-11 /authorize, the login form and the admin API: ${RUNS_PER_OTHER_ENDPOINT * 3} requests with unstorable text in every field, no 5xx`, async () => {
    const app = await server.admin('POST', '/clients', { name: 'property app', redirect_uris: ['https://app.example.com/callback'], scopes: ['calc'], public: true });
    const appId = ((await app.json()) as { client_id: string }).client_id;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(browserAndAdminArbitraries({ clientId: valid.clientId, appId, adminToken: server.adminToken }), async (input) => {
        const body = input.body === undefined ? undefined : Buffer.from(input.body);
        const headers = { ...input.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
        const response = await send(new URL(`${server.issuer}${input.path}`), { method: input.method, headers, body });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        assert.ok(response.status < 500, `${input.method} ${input.path} ${input.body ?? ''} → ${response.status} ${response.body.slice(0, 300)}`);
        if (response.status >= 400) {
          assert.match(response.contentType, /^(application\/(problem\+)?json|text\/html)/, `${response.status} ${response.contentType}`);
          assert.doesNotMatch(response.body, /at .*\.ts:\d+/, 'no stack trace');
        }
      }),
      { numRuns: RUNS_PER_OTHER_ENDPOINT * 3, seed: Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31) },
    );
    assert.ok([...statuses.keys()].some((s) => s < 400), `statuses seen: ${JSON.stringify([...statuses])}`);
    assert.ok([...statuses.keys()].some((s) => s >= 400), `statuses seen: ${JSON.stringify([...statuses])}`);
  });
});
