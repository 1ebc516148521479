import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Problem } from './problem.ts';
import { BASE_HEADERS } from './route-guards.ts';
import type { ErrorFormat } from './route.ts';

/** A request line at the start of the packet or of a line in it (a pipelined request after another one's body). */
const REQUEST_LINE = /(?:^|\n)[A-Z]{3,7} (\/[^\s?]*)\S* HTTP\/1\.[01]\r?\n/;

/** The path of the request node's parser refused, when its request line is in the packet it failed on. */
export function refusedPath(rawPacket: unknown): string | undefined {
  if (!Buffer.isBuffer(rawPacket)) return undefined;
  // The request line comes first, and a line past node's header limit is refused anyway: 8 KiB is plenty.
  return REQUEST_LINE.exec(rawPacket.subarray(0, 8192).toString('latin1'))?.[1];
}

/** What node's parser refused, in the endpoint's error format (RFC 6749 JSON or problem+json). */
export function clientErrorBody(code: string | undefined, format: ErrorFormat): { status: number; contentType: string; body: string } {
  const [status, problem] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [431, new Problem('headers-too-large', `the request's header fields are over ${maxHeaderSize} bytes in all`)]
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, new Problem('request-timeout', 'the request was not received in time')]
        : [400, new Problem('invalid-request', 'the request is not valid HTTP/1.1')];
  // RFC 6749 has no code for these: invalid_request, with the precise status saying what went wrong.
  return format === 'oauth'
    ? { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: 'invalid_request', error_description: problem.message }) }
    : { status, contentType: 'application/problem+json; charset=utf-8', body: JSON.stringify(problem.toJSON()) };
}

/**
 * Fastify's `clientErrorHandler`: node's HTTP parser refuses a request before Fastify routes it (headers past
 * `maxHeaderSize`, 16 KiB by default: 431; a request that is not HTTP: 400; one too slow: 408). Fastify's default
 * answer has a body of its own (`{"error":"Request Header Fields Too Large",…}`), in neither of our formats. This one
 * answers in the format of the endpoint the request line names (`formatOf`; problem+json when none is found), then
 * closes the connection, as node does.
 */
export function clientErrorHandler(formatOf: (path: string | undefined) => ErrorFormat): (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    if (socket.writable) {
      const { status, contentType, body } = clientErrorBody(err.code, formatOf(refusedPath(err.rawPacket)));
      const headers = {
        'content-type': contentType,
        'content-length': String(Buffer.byteLength(body)),
        'cache-control': 'no-store',
        ...BASE_HEADERS,
        connection: 'close',
      };
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
    }
    socket.destroy(err);
  };
}
