import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import { fetchJson } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';

/**
 * Tool-call audit (issue 12 item 7): the MCP adapter reports every tool call it served or refused to the
 * authorization server's audit trail (`tool_calls_endpoint`, with the resource's API key). Reporting never blocks
 * or fails a tool call: events wait in a bounded queue (the oldest are dropped, and counted, when it is full) and
 * are sent in batches, in the background, with retries after a failure.
 */

/** One tool call as reported. Never the arguments: only their SHA-256. */
export interface ToolCallEvent {
  /** `sub` of the token. */
  subject: string;
  clientId?: string;
  /** The agents of the token's `act` chain, outermost first. */
  chain: string[];
  tool: string;
  argumentsSha256: string;
  decision: 'allowed' | 'refused';
  /** Why it was refused (or that the tool failed). */
  reason?: string;
  durationMs: number;
  /** When the call arrived, epoch milliseconds. */
  at?: number;
  /** `jti` of the token. */
  tokenId?: string;
}

/** Options of {@link createToolCallReporter}. */
export interface ToolCallReporterOptions extends HttpOptions {
  /** The authorization server; its `tool_calls_endpoint` is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** The resource server's API key (`mrk_…`). */
  apiKey: string;
  /** Events kept while the authorization server cannot be reached. Default 1000. */
  maxQueue?: number;
  /** Events per request. Default 50 (the server takes at most 100). */
  batchSize?: number;
  /** How soon after an event a batch is sent, in milliseconds. Default 1000. */
  flushIntervalMs?: number;
  /** The longest wait between retries after failures (it doubles from `flushIntervalMs`). Default 30000. */
  maxRetryDelayMs?: number;
  /** Called with each failed attempt (for logs); the events stay queued. */
  onError?: (err: unknown) => void;
}

/** Reports tool calls in the background. */
export interface ToolCallReporter {
  /** Queues one event; returns at once, whatever happens to it. */
  report(event: ToolCallEvent): void;
  /** Sends everything queued now; resolves when it was sent, or rejects with the failure (the events stay queued). */
  flush(): Promise<void>;
  /** Stops the timer after one last flush attempt. */
  close(): Promise<void>;
  /** Events waiting to be sent. */
  readonly pending: number;
  /** Events dropped: the queue was full, or the server refused a batch as malformed. */
  readonly dropped: number;
}

const wire = (e: ToolCallEvent) => ({
  subject: e.subject,
  ...(e.clientId !== undefined ? { client_id: e.clientId } : {}),
  chain: e.chain.slice(0, 10),
  tool: e.tool,
  arguments_sha256: e.argumentsSha256,
  decision: e.decision,
  ...(e.reason !== undefined ? { reason: e.reason.slice(0, 500) } : {}),
  duration_ms: Math.max(0, e.durationMs),
  ...(e.at !== undefined ? { at: Math.floor(e.at) } : {}),
  ...(e.tokenId !== undefined ? { jti: e.tokenId } : {}),
});

/**
 * Creates a tool-call reporter for `createMcpAuth({ toolCalls })`.
 *
 * @example
 * const toolCalls = createToolCallReporter({ issuer, apiKey: process.env.MANDATE_RESOURCE_API_KEY! });
 * const mcpAuth = createMcpAuth({ verifier, toolCalls });
 */
export function createToolCallReporter(options: ToolCallReporterOptions): ToolCallReporter {
  assertIssuerIdentifier(options.issuer);
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('apiKey must be the resource server’s API key');
  const maxQueue = options.maxQueue ?? 1000;
  const batchSize = Math.min(options.batchSize ?? 50, 100);
  const interval = options.flushIntervalMs ?? 1000;
  const maxDelay = options.maxRetryDelayMs ?? 30_000;
  if (!Number.isInteger(maxQueue) || maxQueue < 1 || !Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('maxQueue and batchSize must be positive integers');
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const metadata = cachedMetadata(options.issuer, http);

  const queue: ToolCallEvent[] = [];
  let dropped = 0;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending: Promise<void> | undefined;
  let closed = false;

  async function sendBatch(batch: ToolCallEvent[]): Promise<void> {
    const endpoint = (await metadata()).tool_calls_endpoint;
    if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) throw new Error('the authorization server names no tool_calls_endpoint');
    const answer = await fetchJson(
      endpoint,
      { method: 'POST', headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ calls: batch.map(wire) }) },
      http,
    );
    // A 400 will never be accepted however often it is sent: drop the batch (counted) rather than block the queue.
    if (answer.status === 400) {
      dropped += batch.length;
      return;
    }
    if (answer.status !== 200) throw new Error(`${endpoint} answered ${answer.status}`);
  }

  /** Sends batches until the queue is empty; a failure leaves the failed batch at the head of the queue. */
  function drain(): Promise<void> {
    sending ??= (async () => {
      try {
        while (queue.length > 0) {
          const batch = queue.slice(0, batchSize);
          await sendBatch(batch);
          queue.splice(0, batch.length);
          failures = 0;
        }
      } finally {
        sending = undefined;
      }
    })();
    return sending;
  }

  function schedule(delayMs: number): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      drain().then(
        () => (queue.length > 0 ? schedule(interval) : undefined),
        (err: unknown) => {
          failures++;
          options.onError?.(err);
          schedule(Math.min(maxDelay, interval * 2 ** failures));
        },
      );
    }, delayMs);
    timer.unref?.();
  }

  return {
    report(event) {
      if (queue.length >= maxQueue) {
        queue.shift();
        dropped++;
      }
      queue.push(event);
      schedule(queue.length >= batchSize ? 0 : interval);
    },
    async flush() {
      await drain();
      // A batch being sent when flush was called may have left newer events behind.
      if (queue.length > 0) await drain();
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await drain().catch((err: unknown) => options.onError?.(err));
    },
    get pending() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
  };
}
