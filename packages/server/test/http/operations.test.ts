import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, test } from 'node:test';
import { basicAuth, decodeJwt, formBody, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/** Issue 13 item 5: health, readiness, request ids, metrics and graceful shutdown, over real HTTP on both stores. */

/** Reads one HTTP/1.1 response off a raw socket until the server closes it. */
async function responseOf(socket: Socket): Promise<{ status: number; headers: string; body: string }> {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  await once(socket, 'end');
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body };
}

forEachStore('operations', (fixture) => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close().catch(() => {});
  });
  const start = async (overrides: Parameters<typeof startTestServer>[1] = {}) => {
    const server = await startTestServer(fixture, overrides);
    servers.push(server);
    return server;
  };

  test('OPS-health /healthz answers while the process runs; /readyz checks the store and the keys, 503 when the store is gone', async () => {
    const server = await start();
    const health = await fetch(`${server.issuer}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.issuer}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { store: 'ok', keys: 'ok' } });

    // The database connection ends under the running server: not ready, while the process itself is still alive.
    await server.store.close();
    const cutOff = await fetch(`${server.issuer}/readyz`);
    assert.equal(cutOff.status, 503);
    assert.deepEqual(await cutOff.json(), { status: 'unavailable', checks: { store: 'unreachable', keys: 'ok' } });
    assert.equal((await fetch(`${server.issuer}/healthz`)).status, 200);
  });

  test('OPS-request-id every response names its request: the caller’s X-Request-Id when plausible, else one of this instance', async () => {
    const server = await start();
    const given = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'lb-7f3a:42' } });
    assert.equal(given.headers.get('x-request-id'), 'lb-7f3a:42');
    const first = (await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'no spaces or <html> please' } })).headers.get('x-request-id');
    const second = (await fetch(`${server.issuer}/nowhere`)).headers.get('x-request-id');
    assert.match(first ?? '', /^[0-9a-f]{8}-[0-9a-z]+$/);
    assert.equal(second?.split('-')[0], first?.split('-')[0], 'one instance prefix');
    assert.notEqual(first, second);
  });

  test('OPS-metrics Prometheus metrics on a listener of their own: requests by route and status, tokens by grant, latency, audit queue, pending approvals', async () => {
    const off = await start();
    assert.equal(off.metricsPort, undefined, 'no metrics listener unless a port is configured');
    const server = await start({ metrics: { port: 0 } });
    assert.ok(server.metricsPort !== undefined && server.metricsPort !== server.port);
    const agent = await registerAgentAndResource(server);
    const params = { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE };
    for (let i = 0; i < 2; i++) assert.equal((await server.postForm('/token', params, { authorization: basicAuth(agent.clientId, agent.clientSecret) })).status, 200);
    assert.equal((await server.postForm('/token', params, { authorization: basicAuth(agent.clientId, 'wrong') })).status, 401);
    // A scope that needs an approver: the request waits in the approval queue.
    const deployUri = 'https://deploy.example.com/mcp';
    const created = await server.admin('POST', '/resources', { resource: deployUri, scopes: [{ name: 'deploy', risk: 'high' }] });
    const resourceId = ((await created.json()) as { id: string }).id;
    assert.equal((await server.admin('PUT', `/resources/${resourceId}/policies/deploy`, { policy: 'admin_approval' })).status, 200);
    const deployer = await registerAgentAndResource(server, { name: 'deployer', scopes: ['deploy'], audiences: [deployUri] }, deployUri);
    const waiting = await server.postForm('/token', { grant_type: 'client_credentials', scope: 'deploy', resource: deployUri }, { authorization: basicAuth(deployer.clientId, deployer.clientSecret) });
    assert.match(((await waiting.json()) as { error_description: string }).error_description, /approval request apr_\S+ was created/);

    const scrape = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await scrape.text();
    assert.match(text, /^mandate_tokens_issued_total\{grant_type="client_credentials"\} 2$/m);
    assert.match(text, /^mandate_token_requests_refused_total\{error="invalid_client"\} 1$/m);
    assert.match(text, /^mandate_token_requests_refused_total\{error="invalid_scope"\} 1$/m);
    assert.match(text, /^mandate_http_requests_total\{route="\/admin\/v1\/resources\/:id\/policies\/:scope",method="PUT",status="200"\} 1$/m, 'route patterns, not paths');
    assert.match(text, /^mandate_http_requests_total\{route="\/token",method="POST",status="200"\} 2$/m);
    assert.match(text, /^mandate_http_requests_total\{route="\/token",method="POST",status="401"\} 1$/m);
    assert.match(text, /^mandate_http_request_duration_seconds_count\{route="\/token",method="POST"\} 4$/m);
    assert.match(text, /^mandate_audit_queue_depth 0$/m);
    assert.match(text, /^mandate_approval_requests_pending 1$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    // Nothing of it through the public port, whatever the path.
    assert.equal((await fetch(`${server.issuer}/metrics`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${server.metricsPort}/`)).status, 404);
  });

  test('OPS-drain shutdown answers the request under way (then closes its connection), commits its audit row and accepts no new connection', async () => {
    const server = await start({ shutdownGraceSeconds: 120 });
    const agent = await registerAgentAndResource(server);
    const body = formBody({ grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE });
    const { port } = server;

    // A token request whose headers the server has read, and whose body has not all arrived: under way.
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const received = once(server.app.server, 'request');
    socket.write(
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${basicAuth(agent.clientId, agent.clientSecret)}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await received;
    const response = responseOf(socket);

    const closing = server.close();
    await assert.rejects(fetch(`${server.issuer}/healthz`), 'the listener is closed: no new connection');
    socket.write(body.slice(10));
    const answered = await response;
    assert.equal(answered.status, 200, answered.body);
    assert.match(answered.headers, /\r\nconnection: close/);
    const { jti } = decodeJwt((JSON.parse(answered.body) as { access_token: string }).access_token).payload;
    await closing;

    const rows = await fixture.store.listAuditRows({ event: 'token.issued', clientId: agent.clientId });
    assert.deepEqual(rows.map((row) => row.detail['jti']), [jti]);
  });
});
