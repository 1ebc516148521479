import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthorizationDenied, AuthorizationTimeout, MandateError } from '../errors.ts';

/** Options of {@link listenForCallback}. */
export interface LoopbackListenerOptions<T> {
  /** The loopback IP literal to listen on (RFC 8252 §7.3, §8.3: never `localhost`, never all interfaces). Default 127.0.0.1. */
  host?: '127.0.0.1' | '::1';
  /** Port; 0 (default) lets the OS pick one, and the redirect URI names it. */
  port?: number;
  /** Path of the redirect URI. Default `/callback`. */
  path?: string;
  /** Give up after this many milliseconds (`ERR_AUTHORIZATION_TIMEOUT`). Default 300,000 (5 min). */
  timeoutMs?: number;
  /** Handles a request to the redirect URI's path; resolving ends the wait with that value, throwing with that error. */
  handle(callback: URL): Promise<T>;
  /** Errors after which the listener keeps waiting instead: a response that matched no pending request. */
  isIgnorable?(err: unknown): boolean;
  /** Told about each ignored response (for logs). */
  onIgnored?(err: unknown): void;
}

/** A listening loopback redirect endpoint. */
export interface LoopbackListener<T> {
  /** `http://127.0.0.1:<port><path>` (or `http://[::1]:…`): the redirect URI to put in the authorization request. */
  redirectUri: string;
  /** Settles with the first callback that was not ignored, or `ERR_AUTHORIZATION_TIMEOUT`; the listener has closed by then. */
  result: Promise<T>;
  /** Stops listening; an unsettled `result` rejects with an `AbortError`. */
  close(): Promise<void>;
}

/**
 * A one-shot redirect endpoint for a native or CLI client (RFC 8252 §7.3 loopback interface redirection): a
 * `node:http` server on a loopback IP literal that waits for one authorization response, answers the browser with
 * a small page that holds no secret and echoes nothing from the request, and closes. Requests for other paths
 * (`/favicon.ico`, …), with another `Host` (DNS rebinding) or another method are answered and ignored; responses
 * that `isIgnorable` (a `state` matching no pending request) are refused and the wait goes on, so a stray or forged
 * request cannot end a sign-in in progress.
 *
 * @example
 * const listener = await listenForCallback({ handle: async (url) => url.searchParams.get('code') });
 * console.log(listener.redirectUri); // http://127.0.0.1:53124/callback
 * const code = await listener.result;
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export async function listenForCallback<T>(options: LoopbackListenerOptions<T>): Promise<LoopbackListener<T>> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1') throw new TypeError('host must be 127.0.0.1 or ::1 (a loopback IP literal)');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new TypeError('port must be an integer between 0 and 65535');
  const path = options.path ?? '/callback';
  if (!path.startsWith('/') || path.includes('?') || path.includes('#')) throw new TypeError('path must start with / and have no query or fragment');
  const timeoutMs = options.timeoutMs ?? 300_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');

  let settle: { resolve(value: T): void; reject(err: unknown): void };
  const result = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  // The caller may close without awaiting the result; an unobserved rejection must not crash the process.
  result.catch(() => undefined);
  let state: 'waiting' | 'handling' | 'done' = 'waiting';

  const server = createServer((req, res) => void onRequest(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const boundPort = (server.address() as AddressInfo).port;
  const authority = `${host === '::1' ? '[::1]' : host}:${boundPort}`;
  const redirectUri = `http://${authority}${path}`;

  const timer = setTimeout(() => finish(() => settle.reject(new AuthorizationTimeout(timeoutMs))), timeoutMs);
  timer.unref();

  async function stop(): Promise<void> {
    clearTimeout(timer);
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  function finish(outcome: () => void): void {
    if (state === 'done') return;
    state = 'done';
    outcome();
    void stop();
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.host !== authority) return send(res, 400, pages.wrongHost);
    const url = new URL(req.url ?? '/', `http://${authority}`);
    if (url.pathname !== path) return send(res, 404, pages.notFound);
    if (req.method !== 'GET') return send(res, 405, pages.notFound, { allow: 'GET' });
    if (state !== 'waiting') return send(res, 409, pages.busy);
    state = 'handling';
    let value: T;
    try {
      value = await options.handle(url);
    } catch (err) {
      if (options.isIgnorable?.(err) === true) {
        state = 'waiting';
        options.onIgnored?.(err);
        return send(res, 400, pages.ignored);
      }
      send(res, 400, pages.failed(err), { connection: 'close' });
      return finish(() => settle.reject(err));
    }
    send(res, 200, pages.done, { connection: 'close' });
    finish(() => settle.resolve(value));
  }

  return {
    redirectUri,
    result,
    async close() {
      finish(() => settle.reject(new DOMException('the loopback listener was closed', 'AbortError')));
      await stop();
    },
  };
}

function send(res: ServerResponse, status: number, page: { title: string; body: string }, headers: Record<string, string> = {}): void {
  const html = `<!doctype html>\n<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(page.title)}</title>\n<h1>${escapeHtml(page.title)}</h1>\n<p>${escapeHtml(page.body)}</p>\n</html>\n`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // Nothing to load, nothing to frame, and the callback URL (with its code) is never sent on as a Referer.
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(html);
}

const pages = {
  done: { title: 'Signed in', body: 'The agent received your authorization. You can close this tab and return to it.' },
  ignored: { title: 'Not the expected sign-in', body: 'This response does not belong to a sign-in the agent is waiting for; it was ignored.' },
  busy: { title: 'Sign-in already handled', body: 'The agent has already received a response for this sign-in.' },
  notFound: { title: 'Not found', body: 'Nothing here.' },
  wrongHost: { title: 'Bad request', body: 'Unexpected host.' },
  /** Names the SDK's error code (and the AS's error code for a verified error response), never free text from the request. */
  failed(err: unknown) {
    const reason = err instanceof AuthorizationDenied ? `${err.code}: ${err.error}` : err instanceof MandateError ? err.code : 'an unexpected error';
    return { title: 'Sign-in did not complete', body: `The agent could not complete the sign-in (${reason}). Return to it for details.` };
  },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
