import type { AuthenticationTarget, ClientAuthentication } from './client-authentication.ts';
import type { TokenRequestOptions } from './token-request.ts';

/** An event stream block larger than this is no status event: the stream is given up (and polling takes over). */
const MAX_BUFFER_CHARS = 64 * 1024;

/**
 * Waits on the server's approval events stream (`approval_events_endpoint`, a Mandate extension: Server-Sent
 * Events of the client's own approval request) until it says the request is no longer pending. Resolves true then,
 * and false whenever the stream cannot say (refused, cut, ended undecided, or `maxWaitMs` passed): the caller falls
 * back to polling, so the stream only ever makes the answer come sooner.
 */
export async function awaitApprovalDecision(
  endpoint: string,
  request: URLSearchParams,
  authenticate: ClientAuthentication,
  target: AuthenticationTarget,
  http: Pick<TokenRequestOptions, 'fetch'>,
  maxWaitMs: number,
): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), maxWaitMs);
  timer.unref?.();
  try {
    const body = new URLSearchParams(request);
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'text/event-stream' });
    await authenticate(body, headers, target);
    const response = await (http.fetch ?? fetch)(endpoint, { method: 'POST', headers, body: body.toString(), redirect: 'manual', signal: abort.signal });
    if (response.status !== 200 || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || response.body === null) {
      await response.body?.cancel();
      return false;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (decidedBy(block)) {
          await reader.cancel();
          return true;
        }
      }
      if (buffer.length > MAX_BUFFER_CHARS) {
        await reader.cancel();
        return false;
      }
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether one event block is a `status` event saying the request is decided or expired. */
function decidedBy(block: string): boolean {
  const lines = block.split('\n');
  if (!lines.includes('event: status')) return false;
  const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart()).join('\n');
  try {
    const status = (JSON.parse(data) as { status?: unknown }).status;
    return typeof status === 'string' && status !== 'pending';
  } catch {
    return false;
  }
}
