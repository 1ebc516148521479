import assert from 'node:assert/strict';
import { maxHeaderSize } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * Issue 14 leftover 2: a request node's HTTP parser refuses before Fastify routes it (headers past `maxHeaderSize`,
 * bytes that are not HTTP) is answered in the error format of the endpoint it names, not with Fastify's own body:
 * RFC 6749 JSON at the OAuth endpoints, problem+json elsewhere. Raw sockets, so the bytes sent are exactly these.
 */

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `request` as it is and reads the answer until the server closes the connection (each request here makes it). */
function raw(server: TestServer, request: string): Promise<RawResponse> {
  const { hostname, port } = new URL(server.issuer);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

forEachStore('requests node refuses before routing', (fixture) => {
  let server: TestServer;
  let path: string;
  before(async () => {
    server = await startTestServer(fixture);
    path = new URL(server.issuer).pathname.replace(/\/$/, '');
  });
  after(() => server.close());

  /** A POST whose one header makes the header section `size` bytes long, more or less. */
  const post = (target: string, size: number) =>
    `POST ${path}${target} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\nx-padding: ${'a'.repeat(size)}\r\ncontent-length: 0\r\n\r\n`;

  test('HDR-431 headers over the limit at the token endpoint → 431 with an RFC 6749 body, the connection closed', async () => {
    const response = await raw(server, post('/token', maxHeaderSize + 1024));
    assert.equal(response.status, 431);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['connection'], 'close');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(Number(response.headers['content-length']), Buffer.byteLength(response.body));
    assert.deepEqual(JSON.parse(response.body), { error: 'invalid_request', error_description: `the request's header fields are over ${maxHeaderSize} bytes in all` });
  });

  test('HDR-431 headers over the limit on the admin API, or on a path no route has → 431 problem+json', async () => {
    for (const target of ['/admin/v1/agents', '/no-such-path']) {
      const response = await raw(server, post(target, maxHeaderSize + 1024));
      assert.equal(response.status, 431, target);
      assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.deepEqual(JSON.parse(response.body), {
        type: 'urn:mandate:problem:headers-too-large',
        title: 'Request header fields too large',
        status: 431,
        detail: `the request's header fields are over ${maxHeaderSize} bytes in all`,
      });
    }
  });

  test('HDR-431 headers just under the limit are served as usual; bytes that are not HTTP → 400 problem+json', async () => {
    const served = await raw(server, post('/token', maxHeaderSize - 1024).replace('\r\n\r\n', '\r\nconnection: close\r\n\r\n'));
    assert.equal(served.status, 400);
    assert.equal(JSON.parse(served.body).error, 'invalid_request', 'the token endpoint itself answered: grant_type is required');
    assert.match(JSON.parse(served.body).error_description, /grant_type/);
    const garbage = await raw(server, 'NOT HTTP AT ALL\r\n\r\n');
    assert.equal(garbage.status, 400);
    assert.match(garbage.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(JSON.parse(garbage.body).type, 'urn:mandate:problem:invalid-request');
  });
});
