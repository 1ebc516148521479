import type { MandateConfig } from '../config.ts';
import type { ApprovalStatusFlow } from '../flows/approval-status.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import type { SharedRateCounts } from '../http/shared-rate-counts.ts';
import { authenticateClient, type ClientAuthDeps } from '../oauth/client-authentication.ts';
import { invalidRequest, OAuthError } from '../oauth/oauth-error.ts';

export interface ApprovalEventsEndpointOptions {
  flow: ApprovalStatusFlow;
  clientAuth: ClientAuthDeps;
  now(): number;
  /** How often the stream reads the request (a decision may be made on any instance). */
  pollMs: number;
  draining(): boolean;
  /** The token endpoint's limits, per address (before authentication) and per client: each stream is a request. */
  rateLimit: Pick<MandateConfig['rateLimit'], 'tokenPerIpPerMinute' | 'tokenPerClientPerMinute'>;
  /** With `rateLimit.shared`: the instances on one database count an address's and a client's streams together. */
  sharedRateCounts?: SharedRateCounts | undefined;
}

/** A comment after this many quiet reads keeps proxies from closing an idle stream. */
const KEEPALIVE_TICKS = 15;

/**
 * POST /approval-events (a Mandate extension, advertised as `approval_events_endpoint`): a waiting agent's
 * Server-Sent Events stream of its own approval request. The client authenticates as at the token endpoint and
 * names the request (`auth_req_id` or `approval_request`: flows/approval-status.ts); the answer is
 * `text/event-stream` with one `event: status` whose data is `{"status": "pending", "expires_at": …}` at once, then
 * one with the decision (`approved`, `denied`) or `expired`, after which the stream ends: the agent then asks the
 * token endpoint once (CIBA poll, or its repeated request). It reads the request when this process decides one and
 * every `pollMs`; it ends too when
 * the server drains (the agent falls back to polling, or reconnects).
 *
 * Each stream holds a connection and reads the store every `pollMs`, so opening streams is limited like token
 * requests, with the token endpoint's rates but counts of its own: per address before authentication, per client
 * after it (shared across instances with `rateLimit.shared`). A refusal is 429 with `Retry-After` and an RFC 6749
 * `invalid_request` body, as at the token endpoint.
 */
export function approvalEventsEndpoint(options: ApprovalEventsEndpointOptions): RouteDefinition {
  const shared = (prefix: string) => (options.sharedRateCounts ? { counts: options.sharedRateCounts, prefix } : undefined);
  const clock = () => options.now() * 1000;
  const perIp = new RateLimiter(options.rateLimit.tokenPerIpPerMinute, clock, shared('approval-events-ip:'));
  const perClient = new RateLimiter(options.rateLimit.tokenPerClientPerMinute, clock, shared('approval-events-client:'));
  const limited = (refusal: { retryAfter: number } | null) => {
    if (refusal) throw new OAuthError('invalid_request', `too many approval event streams; retry after ${refusal.retryAfter}s`, { status: 429, headers: { 'retry-after': String(refusal.retryAfter) } });
  };
  return {
    method: 'POST',
    url: endpointPaths.approvalEvents,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      limited(perIp.take(request.ip));
      const params = requestForm(request);
      params.rejectRepeated();
      const { client, method } = await authenticateClient({ authorization: authorizationHeader(request), params }, options.clientAuth, options.now());
      request.authenticatedClientId = client.clientId;
      limited(perClient.take(client.clientId));
      if (method === 'none') throw invalidRequest('approval events need a confidential client');
      const id = await options.flow.find(client, params);

      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      out.write('retry: 2000\n\n');
      let closed = false;
      let wake: (() => void) | null = null;
      // A decision on this instance wakes the stream at once; another instance's is read within `pollMs`.
      const unsubscribe = options.flow.onChange(() => wake?.());
      out.on('close', () => {
        closed = true;
        wake?.();
      });
      let sent: string | null = null;
      let ticks = 0;
      try {
        while (!closed && !options.draining()) {
          // Armed before the read: a change while reading wakes the next one at once.
          const waiting = new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, options.pollMs).unref();
          });
          const view = await options.flow.status(id, options.now());
          if (closed) break;
          const status = view?.status ?? 'expired';
          if (status !== sent) {
            out.write(`event: status\ndata: ${JSON.stringify(view ?? { status })}\n\n`);
            sent = status;
          } else if (++ticks % KEEPALIVE_TICKS === 0) {
            out.write(': keep-alive\n\n');
          }
          if (status !== 'pending') break;
          await waiting;
        }
      } finally {
        unsubscribe();
        out.end();
      }
      return reply;
    },
  };
}
