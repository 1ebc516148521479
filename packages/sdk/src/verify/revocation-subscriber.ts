import { isRevokedBy, parseRevocationEvent, REVOCATION_EVENT_TYPE, REVOCATION_WEBHOOK_SIGNATURE_HEADER, revocationWebhookSignatureProblem } from '@mandate/protocol';
import { RevocationWebhookInvalid } from '../errors.ts';
import type { AccessTokenClaims, RevocationCutoff, RevocationEvent } from '@mandate/protocol';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';

/** Options of {@link subscribeRevocations}. */
export interface RevocationSubscriberOptions {
  /** The authorization server's issuer identifier; the stream is `<issuer>/revocation-events` unless `url` is given. */
  issuer: string;
  /** This resource's API key (`mrk_…`), as for introspection. */
  apiKey: string;
  url?: string;
  /** Resume after this event id (one kept from an earlier subscription); default: from now. */
  lastEventId?: string;
  /** Called for each event, after it is applied. */
  onEvent?: (event: RevocationEvent, id: string) => void;
  /** Called when the stream fails or ends; the subscriber reconnects (with Last-Event-ID) after `reconnectMs`. */
  onError?: (error: unknown) => void;
  /** Wait before reconnecting, in milliseconds. Default 1000, or the server's `retry:`. */
  reconnectMs?: number;
  fetch?: typeof fetch;
  /** Bounds of what is remembered (see {@link RevocationStateOptions}). */
  maxEntries?: number;
  /** Current time in milliseconds since the epoch, to forget expired events. Default `Date.now`. */
  clock?: () => number;
}

/** A live subscription to the server's revocation events; pass it to `createVerifier({ revocations })`. */
export interface RevocationSubscriber {
  /** Resolves once the first connection is established (events from then on are seen). */
  readonly ready: Promise<void>;
  /** The id of the last event applied: keep it to resume a later subscription without a gap. */
  readonly lastEventId: string | undefined;
  /** Whether an event seen so far makes a token with these claims invalid. */
  isRevoked(claims: AccessTokenClaims): boolean;
  close(): void;
}

/**
 * Subscribes to the server's revocation events over Server-Sent Events (GET /revocation-events, authenticated with
 * the resource's API key), reconnecting with `Last-Event-ID` after a cut, so that a resource verifying JWTs locally
 * refuses tokens of revoked chains without introspecting each call. What it has seen is kept in memory: revoked
 * token and grant ids, and parties' `iat` cutoffs. Webhook receivers apply events with {@link RevocationState}.
 */
export function subscribeRevocations(options: RevocationSubscriberOptions): RevocationSubscriber {
  assertIssuerIdentifier(options.issuer);
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('apiKey must be the resource API key');
  const url = options.url ?? `${options.issuer.replace(/\/$/, '')}/revocation-events`;
  const doFetch = options.fetch ?? fetch;
  const state = new RevocationState({ ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }), ...(options.clock === undefined ? {} : { clock: options.clock }) });
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
    state.apply(event);
    if (id !== undefined) lastEventId = id;
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
    close: () => abort.abort(),
  };
}

/** Options of {@link RevocationState}. */
export interface RevocationStateOptions {
  /**
   * The most revoked token ids, grant ids and party cutoffs kept at once. Entries are forgotten when their event's
   * `exp` has passed (nothing they name can be alive then); past this bound the oldest go first, which lets the
   * tokens they named verify again until they expire, so size it for the revocations one token lifetime sees.
   * Default 100 000.
   */
  maxEntries?: number;
  /** How long an event without `exp` (an older server) is remembered, in seconds. Default 86 400. */
  defaultRetentionSeconds?: number;
  /** Current time in milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** How many applied events between two sweeps of expired entries, when the bound is not reached. */
const SWEEP_EVERY = 256;

/**
 * What revocation events said so far: revoked token and grant ids, parties' cutoffs; bounded in memory (each entry
 * is kept until its event's `exp`, and at most `maxEntries` of them).
 */
export class RevocationState {
  /** `j:<jti>` and `g:<gid>` → until when it matters (seconds), in insertion order (oldest first). */
  readonly #ids = new Map<string, number>();
  /** `<party>:<id>` → the latest cutoff of that party, and until when it matters. */
  readonly #cutoffs = new Map<string, { cut: RevocationCutoff; until: number }>();
  readonly #maxEntries: number;
  readonly #retentionSeconds: number;
  readonly #clock: () => number;
  #appliedSinceSweep = 0;
  #dropped = 0;

  constructor(options: RevocationStateOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('maxEntries must be a positive integer');
    const retention = options.defaultRetentionSeconds ?? 86_400;
    if (!Number.isFinite(retention) || retention <= 0) throw new TypeError('defaultRetentionSeconds must be a positive number');
    this.#maxEntries = max;
    this.#retentionSeconds = retention;
    this.#clock = options.clock ?? Date.now;
  }

  /** How many entries (revoked ids and party cutoffs) are kept now. */
  get size(): number {
    return this.#ids.size + this.#cutoffs.size;
  }

  /** How many unexpired entries were forgotten because of `maxEntries` so far (a sign the bound is too small). */
  get dropped(): number {
    return this.#dropped;
  }

  apply(event: RevocationEvent): void {
    const now = this.#clock() / 1000;
    const until = event.exp ?? now + this.#retentionSeconds;
    if (until <= now) return;
    const keepId = (key: string) => {
      const known = this.#ids.get(key) ?? 0;
      // Deleted first: the entry moves to the newest end, where eviction comes last.
      this.#ids.delete(key);
      this.#ids.set(key, Math.max(until, known));
    };
    for (const jti of event.jti ?? []) keepId(`j:${jti}`);
    for (const gid of event.gid ?? []) keepId(`g:${gid}`);
    for (const cut of event.cutoff ?? []) {
      const key = `${cut.party}:${cut.id}`;
      const known = this.#cutoffs.get(key);
      this.#cutoffs.delete(key);
      const latest = known !== undefined && known.cut.iat_before > cut.iat_before ? known.cut : { party: cut.party, id: cut.id, iat_before: cut.iat_before };
      this.#cutoffs.set(key, { cut: latest, until: Math.max(until, known?.until ?? 0) });
    }
    this.#prune(now);
  }

  #prune(now: number): void {
    if (this.size > this.#maxEntries || ++this.#appliedSinceSweep >= SWEEP_EVERY) {
      this.#appliedSinceSweep = 0;
      for (const [key, until] of this.#ids) if (until <= now) this.#ids.delete(key);
      for (const [key, entry] of this.#cutoffs) if (entry.until <= now) this.#cutoffs.delete(key);
    }
    // Over the bound: the oldest ids first (one token or grant each), then the oldest cutoffs.
    for (const maps of [this.#ids, this.#cutoffs] as Map<string, unknown>[]) {
      for (const key of maps.keys()) {
        if (this.size <= this.#maxEntries) return;
        maps.delete(key);
        this.#dropped++;
      }
    }
  }

  isRevoked(claims: AccessTokenClaims): boolean {
    if (this.#ids.has(`j:${claims.jti}`) || (claims.gid !== undefined && this.#ids.has(`g:${claims.gid}`))) return true;
    return this.#cutoffs.size > 0 && isRevokedBy(claims, { cutoff: [...this.#cutoffs.values()].map((entry) => entry.cut) });
  }
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
 * received, then reads the event. Apply it with a {@link RevocationState} the verifier is given as `revocations`.
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
