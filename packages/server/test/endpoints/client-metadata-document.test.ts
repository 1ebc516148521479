import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { ResolvedAddress } from '../../src/flows/metadata-document-fetch.ts';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createUser, pkce, redeemCode, redirectParams } from '../helpers/user-flow.ts';

const REDIRECT = 'http://127.0.0.1/callback';

/** A TCP listener that counts every connection: the proof that nothing reached a forbidden address. */
async function tripwire(host: string): Promise<{ server: TcpServer; port: number; connections: () => number } | null> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    count++;
    sockets.add(socket);
    socket.destroy();
  });
  try {
    server.listen(0, host);
    await once(server, 'listening');
  } catch {
    return null; // no such interface here (IPv6 off)
  }
  return { server, port: (server.address() as { port: number }).port, connections: () => count };
}

/** An HTTP server on 127.0.0.1 serving what each test puts in `routes`, counting requests per path. */
async function documentServer(): Promise<{ server: Server; origin: string; routes: Map<string, (req: IncomingMessage, res: ServerResponse) => void>; hits: Map<string, number> }> {
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const hits = new Map<string, number>();
  const server = createHttpServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`, routes, hits };
}

function serveJson(body: unknown, headers: Record<string, string> = {}) {
  return (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** Opens the authorization endpoint for `clientId` and returns the page shown (a refusal is a 400 page). */
async function authorize(server: TestServer, clientId: string, redirectUri = REDIRECT): Promise<Response> {
  const { challenge } = pkce();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 's', scope: 'calc', resource: MCP_RESOURCE });
  return fetch(`${server.issuer}/authorize?${query}`, { redirect: 'manual' });
}

async function refusal(server: TestServer, clientId: string): Promise<string> {
  const response = await authorize(server, clientId);
  assert.equal(response.status, 400, clientId);
  const page = await response.text();
  assert.match(page, /invalid_client: the client metadata document/, clientId);
  return page.replace(/&#39;|&quot;/g, "'");
}

/** A resolver for made-up names: what a hostile DNS would answer. */
function resolver(answers: Record<string, string[]>) {
  return async (hostname: string): Promise<ResolvedAddress[]> => {
    const addresses = answers[hostname];
    if (!addresses) throw new Error(`ENOTFOUND ${hostname}`);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

/**
 * Issue 9 item 2 over real HTTP on both stores: an https `client_id` names a Client ID Metadata Document, fetched
 * only from public addresses (the address connected to is the one checked), without redirects, at most 5 KiB, within
 * a deadline, validated like a registration, cached within bounds; the consent page shows the document's host.
 */
forEachStore('Client ID Metadata Documents: SSRF defences (CIMD-06, MCP-C…)', (fixture) => {
  let server: TestServer;
  let v4: NonNullable<Awaited<ReturnType<typeof tripwire>>>;
  let v6: Awaited<ReturnType<typeof tripwire>>;

  before(async () => {
    v4 = (await tripwire('127.0.0.1'))!;
    v6 = await tripwire('::1');
    server = await startTestServer(
      fixture,
      {},
      {
        resolveHost: resolver({
          'rebind.test': ['127.0.0.1'],
          'internal.test': ['10.1.2.3'],
          'metadata.test': ['169.254.169.254'],
          'mixed.test': ['93.184.216.34', '127.0.0.1'],
          'mapped.test': ['::ffff:127.0.0.1'],
          'ula.test': ['fd00::1'],
          'cgnat.test': ['100.64.0.1'],
        }),
      },
    );
    await registerAgentAndResource(server);
  });
  after(async () => {
    await server.close();
    v4.server.close();
    v6?.server.close();
  });

  test('CIMD-09 the metadata advertises client_id_metadata_document_supported', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata['client_id_metadata_document_supported'], true);
  });

  test('CIMD-06 URLs resolving to 127.0.0.1, ::1, [::ffff:127.0.0.1], 10.0.0.0/8, 169.254.169.254, a DNS name that resolves to loopback: refused, and no connection reached the listeners', async () => {
    const cases: [string, RegExp][] = [
      [`https://127.0.0.1:${v4.port}/client.json`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`https://[::ffff:127.0.0.1]:${v4.port}/client.json`, /resolves to ::ffff:7f00:1, a loopback address/],
      [`https://rebind.test:${v4.port}/client.json`, /rebind\.test resolves to 127\.0\.0\.1, a loopback address/],
      [`https://mapped.test:${v4.port}/client.json`, /resolves to ::ffff:127\.0\.0\.1, a loopback address/],
      [`https://mixed.test:${v4.port}/client.json`, /resolves to 127\.0\.0\.1, a loopback address/],
      ['https://internal.test/client.json', /resolves to 10\.1\.2\.3, a private address/],
      ['https://10.0.0.1/client.json', /resolves to 10\.0\.0\.1, a private address/],
      ['https://metadata.test/latest/meta-data', /resolves to 169\.254\.169\.254, a link-local address/],
      ['https://169.254.169.254/latest/meta-data', /a link-local address/],
      ['https://ula.test/client.json', /resolves to fd00::1, a unique-local address/],
      ['https://cgnat.test/client.json', /a carrier-grade NAT address/],
      ['https://nowhere.test/client.json', /does not resolve/],
    ];
    if (v6) cases.push([`https://[::1]:${v6.port}/client.json`, /resolves to ::1, a loopback address/]);
    for (const [clientId, reason] of cases) assert.match(await refusal(server, clientId), reason, clientId);
    assert.equal(v4.connections(), 0, 'nothing connected to 127.0.0.1');
    assert.equal(v6?.connections() ?? 0, 0, 'nothing connected to ::1');
    // Nothing was stored for any of them.
    assert.equal(await fixture.store.getClient(`https://rebind.test:${v4.port}/client.json`), null);
  });

  test('CIMD-01 the URL: https with a path, no credentials, no dot segments; http only with the development setting', async () => {
    // Without the development setting an http client_id is no document at all: an unknown client, never fetched.
    const http = await authorize(server, `http://127.0.0.1:${v4.port}/client.json`);
    assert.equal(http.status, 400);
    assert.match(await http.text(), /unknown or disabled client/);
    for (const [clientId, reason] of [
      ['https://user:pw@example.com/client.json', /must not contain credentials/],
      ['https://example.com/', /must have a path/],
      ['https://example.com/a/../client.json', /must not have|resolves|does not resolve/],
    ] as const) {
      assert.match(await refusal(server, clientId), reason, clientId);
    }
    assert.equal(v4.connections(), 0);
  });
});

forEachStore('Client ID Metadata Documents: fetching, validation, caching, consent (development http setting)', (fixture) => {
  let server: TestServer;
  let docs: Awaited<ReturnType<typeof documentServer>>;
  let target: NonNullable<Awaited<ReturnType<typeof tripwire>>>;
  const document = (clientId: string, extra: Record<string, unknown> = {}) => ({ client_id: clientId, client_name: 'Doc Client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], ...extra });

  before(async () => {
    docs = await documentServer();
    target = (await tripwire('127.0.0.1'))!;
    server = await startTestServer(fixture, { clientMetadataDocuments: { allowHttpLocalhost: true, timeoutMs: 300, minCacheSeconds: 60, maxCacheSeconds: 3600 } });
    await registerAgentAndResource(server);
    await createUser(server, 'ada@example.com');
  });
  after(async () => {
    await server.close();
    docs.server.close();
    target.server.close();
  });

  test('MCP 2025-11-25 a metadata-document client: consent shows the document host; code + PKCE with the URL as client_id; cached by Cache-Control within bounds', async () => {
    const clientId = `${docs.origin}/clients/good.json`;
    docs.routes.set('/clients/good.json', serveJson(document(clientId), { 'cache-control': 'public, max-age=600' }));
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const { response, consentPage } = await authorizeInBrowser(server, browser, {
      response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's', scope: 'calc', resource: MCP_RESOURCE,
    });
    assert.match(consentPage ?? '', new RegExp(`metadata document published on <strong>${new URL(docs.origin).host.replace(/\./g, '\\.')}</strong>`));
    assert.match(consentPage ?? '', /unverified/);
    const code = redirectParams(response).get('code')!;
    const token = await redeemCode(server, { clientId, scope: 'calc', redirectUri: REDIRECT }, code, verifier, { resource: MCP_RESOURCE });
    assert.equal(token.status, 200, await token.clone().text());
    assert.equal(docs.hits.get('/clients/good.json'), 1);

    const shown = (await (await server.admin('GET', `/clients/${encodeURIComponent(clientId)}`)).json()) as { registration: { source: string; document_host: string } };
    assert.equal(shown.registration.source, 'metadata_document');
    assert.equal(shown.registration.document_host, new URL(docs.origin).host);

    // Fresh for 600 s: not fetched again; after that, fetched again.
    assert.equal((await authorize(server, clientId)).status, 302);
    assert.equal(docs.hits.get('/clients/good.json'), 1);
    server.clock.advance(601);
    assert.equal((await authorize(server, clientId)).status, 302);
    assert.equal(docs.hits.get('/clients/good.json'), 2);
  });

  test('CIMD-07 cache bounds: no-store is kept the minimum (60 s), a year is kept the maximum (3600 s); an operator’s disable survives a fetch', async () => {
    const noStore = `${docs.origin}/clients/no-store.json`;
    docs.routes.set('/clients/no-store.json', serveJson(document(noStore), { 'cache-control': 'no-store' }));
    assert.equal((await authorize(server, noStore)).status, 302);
    server.clock.advance(59);
    assert.equal((await authorize(server, noStore)).status, 302);
    assert.equal(docs.hits.get('/clients/no-store.json'), 1);
    server.clock.advance(2);
    assert.equal((await authorize(server, noStore)).status, 302);
    assert.equal(docs.hits.get('/clients/no-store.json'), 2);

    const long = `${docs.origin}/clients/long.json`;
    docs.routes.set('/clients/long.json', serveJson(document(long), { 'cache-control': 'max-age=31536000' }));
    assert.equal((await authorize(server, long)).status, 302);
    server.clock.advance(3601);
    assert.equal((await authorize(server, long)).status, 302);
    assert.equal(docs.hits.get('/clients/long.json'), 2);

    assert.equal((await server.admin('POST', `/clients/${encodeURIComponent(long)}/disable`)).status, 200);
    server.clock.advance(3601);
    const disabled = await authorize(server, long);
    assert.equal(disabled.status, 400, 'the disable stands after the document is fetched again');
    assert.equal(docs.hits.get('/clients/long.json'), 3);
  });

  test('CIMD-02 a redirect is not followed (the target gets nothing); a 404; a 6 KiB document; each refused and never cached', async () => {
    const redirecting = `${docs.origin}/clients/redirect.json`;
    docs.routes.set('/clients/redirect.json', (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${target.port}/client.json` }).end());
    assert.match(await refusal(server, redirecting), /answered 302: redirects are not followed/);
    assert.equal(target.connections(), 0, 'the redirect target was never contacted');

    assert.match(await refusal(server, `${docs.origin}/clients/missing.json`), /answered 404, not 200/);

    const big = `${docs.origin}/clients/big.json`;
    docs.routes.set('/clients/big.json', serveJson(document(big, { client_uri: `https://example.com/${'x'.repeat(6 * 1024)}` })));
    assert.match(await refusal(server, big), /larger than 5120 bytes/);
    const chunked = `${docs.origin}/clients/chunked.json`;
    docs.routes.set('/clients/chunked.json', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"client_id":"${chunked}","client_name":"x","redirect_uris":["${REDIRECT}"],"pad":"`);
      res.end(`${'y'.repeat(6 * 1024)}"}`);
    });
    assert.match(await refusal(server, chunked), /larger than 5120 bytes/, 'a body without Content-Length is cut too');

    // Errors are not cached: each attempt fetches again.
    await refusal(server, redirecting);
    assert.equal(docs.hits.get('/clients/redirect.json'), 2);
    assert.equal(await fixture.store.getClient(big), null);
  });

  test('CIMD-02 a server that never answers: refused after the configured timeout (300 ms)', async () => {
    let accepted!: () => void;
    const connected = new Promise<void>((resolve) => (accepted = resolve));
    const held = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      held.add(socket);
      accepted();
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const clientId = `http://127.0.0.1:${(silent.address() as { port: number }).port}/client.json`;
      const page = await refusal(server, clientId);
      await connected;
      assert.match(page, /did not answer within 300 ms/);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  test('CIMD-03/04 validation: client_id must equal the URL, client_name present, JSON, no shared secret; redirect URIs by the one policy', async () => {
    const cases: [string, (url: string) => (req: IncomingMessage, res: ServerResponse) => void, RegExp][] = [
      ['other-id', (url) => serveJson(document(`${url}?x`)), /names another client_id/],
      ['no-name', (url) => serveJson({ client_id: url, redirect_uris: [REDIRECT] }), /has no client_name/],
      ['secret', (url) => serveJson(document(url, { client_secret: 's' })), /must not contain a client secret/],
      ['basic', (url) => serveJson(document(url, { token_endpoint_auth_method: 'client_secret_basic' })), /must not use client_secret_basic/],
      ['html', (url) => (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(JSON.stringify(document(url))), /is not JSON/],
      ['broken', () => (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{'), /is not valid JSON/],
      ['evil-redirect', (url) => serveJson(document(url, { redirect_uris: ['http://evil.example/cb'] })), /is invalid: redirect URI http:\/\/evil\.example\/cb http is allowed only for loopback hosts/],
    ];
    for (const [name, route, reason] of cases) {
      const url = `${docs.origin}/clients/${name}.json`;
      docs.routes.set(`/clients/${name}.json`, route(url));
      assert.match(await refusal(server, url), reason, name);
      assert.equal(await fixture.store.getClient(url), null, name);
    }
    // A redirect URI the document does not list is refused without redirecting (CIMD-05).
    const good = `${docs.origin}/clients/exact.json`;
    docs.routes.set('/clients/exact.json', serveJson(document(good)));
    const wrong = await authorize(server, good, 'http://127.0.0.1/other');
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /redirect_uri does not match/);
  });

  test('CIMD-04 private_key_jwt with jwks_uri: the keys are read through the same checked fetch and stored as public keys; a jwks_uri answering 404 refuses the document', async () => {
    const { publicKey } = await import('node:crypto').then((crypto) => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    docs.routes.set('/keys/ok.json', serveJson({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'd1' }] }));
    const clientId = `${docs.origin}/clients/jwt.json`;
    docs.routes.set('/clients/jwt.json', serveJson(document(clientId, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${docs.origin}/keys/ok.json` })));
    assert.equal((await authorize(server, clientId)).status, 302);
    const stored = await fixture.store.getClient(clientId);
    assert.equal(stored?.tokenEndpointAuthMethod, 'private_key_jwt');
    assert.equal(stored?.jwks?.keys[0]?.['kid'], 'd1');
    assert.equal(stored?.jwks?.keys[0]?.['d'], undefined);

    const broken = `${docs.origin}/clients/jwt-broken.json`;
    docs.routes.set('/clients/jwt-broken.json', serveJson(document(broken, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${docs.origin}/keys/missing.json` })));
    assert.match(await refusal(server, broken), /jwks_uri .*missing\.json was refused: it answered 404/);
  });
});
