import { REVOCATION_EVENT_TYPE } from '@mandate/protocol';
import type { RevocationEventsFlow } from '../flows/revocation-events.ts';
import { authorizationHeader } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';

/** Where resource servers subscribe to revocation events (below the issuer). */
export const REVOCATION_EVENTS_PATH = '/revocation-events';

export interface RevocationEventsEndpointOptions {
  now: () => number;
  /** How often to read the shared log for other instances' events (this instance's wake its streams at once). */
  pollMs: number;
  draining: () => boolean;
}

/**
 * GET /revocation-events: a Server-Sent Events stream (`text/event-stream`) of revocation events for the resource
 * whose API key authenticates the request, about tokens meant for it (flows/revocation-events.ts). Each event is `id: <log id>`, `event: revocation`, `data: <JSON>`; a
 * reconnecting client sends `Last-Event-ID` and gets every event after it that the log still holds. A stream reads
 * the log when this process appends to it and every `pollMs`, and ends when the server drains.
 */
export function revocationEventsEndpoint(flow: RevocationEventsFlow, options: RevocationEventsEndpointOptions): RouteDefinition {
  return {
    method: 'GET',
    url: REVOCATION_EVENTS_PATH,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      const { uri } = await flow.authenticateResource(authorizationHeader(request), options.now());
      const lastEventId = request.headers['last-event-id'];
      let cursor = await flow.startAfter(typeof lastEventId === 'string' ? lastEventId : undefined);

      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      // The first bytes tell the subscriber it is connected, and how soon to reconnect after a cut.
      out.write(`retry: 1000\n: subscribed after ${cursor}\n\n`);

      let closed = false;
      let wake: (() => void) | null = null;
      const signal = () => wake?.();
      const unsubscribe = flow.onAppended(signal);
      const timer = setInterval(signal, options.pollMs);
      out.on('close', () => {
        closed = true;
        signal();
      });
      try {
        while (!closed && !options.draining()) {
          const waiting = new Promise<void>((resolve) => (wake = resolve));
          for (let page = await flow.read(cursor, uri); page.cursor > cursor && !closed; page = await flow.read(cursor, uri)) {
            for (const { id, event } of page.events) out.write(`id: ${id}\nevent: ${REVOCATION_EVENT_TYPE}\ndata: ${JSON.stringify(event)}\n\n`);
            cursor = page.cursor;
          }
          await waiting;
        }
      } finally {
        clearInterval(timer);
        unsubscribe();
        out.end();
      }
    },
  };
}
