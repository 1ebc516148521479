/** Options every outbound HTTP call of the SDK accepts. */
export interface HttpOptions {
  /** The fetch implementation to use (e.g. one with a custom dispatcher). Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Abort a call after this many milliseconds. Default 5000. */
  httpTimeoutMs?: number;
}

/** Largest JSON document the SDK reads from a server: metadata, a JWKS or a token response are a few KiB at most. */
const maxBodyBytes = 512 * 1024;

/** An HTTP answer whose body was read as text (bounded) and parsed as JSON when it could be. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

/**
 * Sends a request and reads a bounded JSON body. Redirects are not followed: the AS's documents and endpoints are
 * named exactly in its metadata, and following a redirect off the issuer's host is an SSRF vector (RFC 9728 §7.7).
 * Throws what `fetch` throws (network error, timeout); the caller wraps it into its own coded error.
 */
export async function fetchJson(url: string, init: RequestInit, options: HttpOptions): Promise<JsonAnswer> {
  const doFetch = options.fetch ?? fetch;
  const send = () => doFetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(options.httpTimeoutMs ?? 5000) });
  let response: Response;
  try {
    response = await send();
  } catch (err) {
    // A pooled keep-alive connection that the server closed while idle fails with a reset on reuse; a GET (metadata,
    // JWKS) is safe to send once more on a fresh connection. Anything else is the caller's to handle.
    if ((init.method ?? 'GET') !== 'GET' || !isConnectionReset(err)) throw err;
    response = await send();
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBodyBytes) {
    await response.body?.cancel();
    throw new Error(`response body of ${declared} bytes is too large`);
  }
  const text = await response.text();
  if (text.length > maxBodyBytes) throw new Error('response body is too large');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json };
}

function isConnectionReset(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET';
}

/** True for a plain JSON object (RFC 8259 §4), not an array and not null. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
