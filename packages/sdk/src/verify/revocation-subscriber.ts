import { parseRevocationEvent, REVOCATION_EVENT_TYPE, REVOCATION_WEBHOOK_SIGNATURE_HEADER, revocationWebhookSignatureProblem } from '@mandate/protocol';
import { RevocationWebhookInvalid } from '../errors.ts';
import type { AccessTokenClaims, RevocationEvent } from '@mandate/protocol';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';
import { RevocationState } from './revocation-state.ts';

/** Options of {@link subscribeRevocations}. */
export interface RevocationSubscriberOptions {
  /** The authorization server's issuer identifier; the stream is `<issuer>/revocation-events` unless `url` is given. */
  issuer: string;
  /** This resource's API key (`mrk_…`), as for introspection. */
  apiKey: string;
  url?: string;
  /** Resume after this event id (one kept from an earlier subscription); default: from now. */
  lastEventId?: string;
  /** Called for each event for this resource (see `audience`), after it is applied. */
  onEvent?: (event: RevocationEvent, id: string) => void;
  /** Called when the stream fails or ends; the subscriber reconnects (with Last-Event-ID) after `reconnectMs`. */
  onError?: (error: unknown) => void;
  /** Wait before reconnecting, in milliseconds. Default 1000, or the server's `retry:`. */
  reconnectMs?: number;
  fetch?: typeof fetch;
  /**
   * Bounds of what is remembered (see `RevocationStateOptions`). Past it, tokens issued before the newest event
   * forgotten are introspected with `apiKey` until what it named has expired, so a flood of revocations cannot let
   * a revoked token through.
   */
  maxEntries?: number;
  /** Timeout of those introspection requests, in milliseconds. Default 5000. */
  httpTimeoutMs?: number;
  /**
   * This resource's URI (or URIs): events whose `aud` names none of them are ignored (see `RevocationStateOptions`).
   * The server already sends a resource only the events that name it or cannot say; this keeps another resource's
   * revocations out of the bound even when one reaches it. Default: every event is applied.
   */
  audience?: string | readonly string[];
  /** Current time in milliseconds since the epoch, to forget expired events. Default `Date.now`. */
  clock?: () => number;
}

/** A live subscription to the server's revocation events; pass it to `createVerifier({ revocations })`. */
export interface RevocationSubscriber {
  /** Resolves once the first connection is established (events from then on are seen). */
  readonly ready: Promise<void>;
  /** The id of the last event applied: keep it to resume a later subscription without a gap. */
  readonly lastEventId: string | undefined;
  /** Whether an event seen so far (and still kept) makes a token with these claims invalid. */
  isRevoked(claims: AccessTokenClaims): boolean;
  /** Whether events about a token with these claims may have been forgotten (past `maxEntries`). */
  isUncertain(claims: Pick<AccessTokenClaims, 'iat'>): boolean;
  /** What the verifier calls: refuses a revoked token, and introspects an uncertain one (`RevocationState.assertNotRevoked`). */
  assertNotRevoked(token: string, claims: AccessTokenClaims): Promise<{ scopes?: string[] }>;
  close(): void;
}

/**
 * Subscribes to the server's revocation events over Server-Sent Events (GET /revocation-events, authenticated with
 * the resource's API key), reconnecting with `Last-Event-ID` after a cut, so that a resource verifying JWTs locally
 * refuses tokens of revoked chains without introspecting each call. What it has seen is kept in memory: revoked
 * token and grant ids, and parties' `iat` cutoffs. Webhook receivers apply events with a `RevocationState`.
 */
export function subscribeRevocations(options: RevocationSubscriberOptions): RevocationSubscriber {
  assertIssuerIdentifier(options.issuer);
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('apiKey must be the resource API key');
  const url = options.url ?? `${options.issuer.replace(/\/$/, '')}/revocation-events`;
  const doFetch = options.fetch ?? fetch;
  const introspection = { issuer: options.issuer, credentials: { apiKey: options.apiKey }, fetch: doFetch, ...(options.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: options.httpTimeoutMs }) };
  const state = new RevocationState({
    introspection,
    ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const abort = new AbortController();
  let lastEventId = options.lastEventId;
  let retryMs = options.reconnectMs ?? 1000;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  async function connectOnce(): Promise<void> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await doFetch(url, { headers, signal: abort.signal });
    if (response.status !== 200 || !response.body) throw new Error(`revocation events: HTTP ${response.status}`);
    markReady();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    throw new Error('revocation events: the stream ended');
  }

  /** One SSE message (WHATWG HTML §9.2): `id:`, `event:`, `data:` and `retry:` fields; comments ignored. */
  function dispatch(message: string): void {
    let id: string | undefined;
    let type = 'message';
    const data: string[] = [];
    for (const line of message.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value) && options.reconnectMs === undefined) retryMs = Number(value);
    }
    if (type !== REVOCATION_EVENT_TYPE || data.length === 0) return;
    const event = parseRevocationEvent(data.join('\n'));
    if (!event) return;
    // An event for other resources only is passed over, but the stream resumes after it all the same.
    if (id !== undefined) lastEventId = id;
    if (!state.concerns(event)) return;
    state.apply(event);
    options.onEvent?.(event, id ?? '');
  }

  void (async () => {
    while (!abort.signal.aborted) {
      try {
        await connectOnce();
      } catch (error) {
        if (abort.signal.aborted) return;
        options.onError?.(error);
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();

  return {
    ready,
    get lastEventId() {
      return lastEventId;
    },
    isRevoked: (claims) => state.isRevoked(claims),
    isUncertain: (claims) => state.isUncertain(claims),
    assertNotRevoked: (token, claims) => state.assertNotRevoked(token, claims),
    close: () => abort.abort(),
  };
}

/** Options of {@link verifyRevocationWebhook}. */
export interface RevocationWebhookOptions {
  /** The secret the server answered when the webhook was set. */
  secret: string;
  /** Current time in milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** How far the signature's time may be from now, in seconds. Default 300. */
  toleranceSeconds?: number;
}

/**
 * Verifies a revocation webhook delivery: the `Mandate-Signature` header (`t=…,v1=…`, HMAC-SHA256 of `"<t>.<body>"`
 * with the webhook's secret, compared in constant time; `t` within the tolerance) over the raw body exactly as
 * received, then reads the event. Apply it with a `RevocationState` the verifier is given as `revocations`.
 * Throws {@link RevocationWebhookInvalid}; answer such a request 400 and a good one 2xx (anything else is retried).
 */
export function verifyRevocationWebhook(body: string, signature: string | undefined, options: RevocationWebhookOptions): RevocationEvent & { id: string } {
  const now = Math.floor((options.clock ?? Date.now)() / 1000);
  const problem = revocationWebhookSignatureProblem(signature, body, options.secret, now, options.toleranceSeconds ?? 300);
  if (problem) throw new RevocationWebhookInvalid(problem);
  const event = parseRevocationEvent(body);
  const id = (JSON.parse(body) as { id?: unknown }).id;
  if (!event || typeof id !== 'string') throw new RevocationWebhookInvalid('the body is no revocation event');
  return { ...event, id };
}

/** The header {@link verifyRevocationWebhook} reads the signature from. */
export { REVOCATION_WEBHOOK_SIGNATURE_HEADER };
