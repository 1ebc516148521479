import type { FastifyReply } from 'fastify';
import type { RouteDefinition } from '../http/route.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Store } from '../store/store.ts';

export interface HealthDeps {
  store: Pick<Store, 'ping'>;
  keys: Pick<KeyRing, 'active'>;
  /** True once shutdown began: the instance finishes what it has and wants no new traffic. */
  draining(): boolean;
  /** How long the database may take to answer the readiness query before the instance counts as not ready. */
  storeTimeoutMs?: number;
}

function sendStatus(reply: FastifyReply, status: number, body: Record<string, unknown>): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(JSON.stringify(body));
}

/** The database's answer to a trivial query, or why there was none; never the driver's message (it may name hosts). */
async function storeCheck(store: Pick<Store, 'ping'>, timeoutMs: number): Promise<'ok' | 'unreachable' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    return await Promise.race([store.ping().then(() => 'ok' as const, () => 'unreachable' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /healthz`: the process answers (liveness; nothing else is checked, so a database outage does not get every
 * instance restarted). `GET /readyz`: this instance can serve (readiness): the store answers, a signing key is
 * loaded, and shutdown has not begun. 503 otherwise, naming the failed check, so a load balancer stops sending
 * requests to an instance that is starting, draining or cut off from its database.
 */
export function healthEndpoints(deps: HealthDeps): RouteDefinition[] {
  const timeoutMs = deps.storeTimeoutMs ?? 2000;
  return [
    { method: 'GET', url: '/healthz', access: 'public', errorFormat: 'problem', handler: async (_request, reply) => sendStatus(reply, 200, { status: 'ok' }) },
    {
      method: 'GET',
      url: '/readyz',
      access: 'public',
      errorFormat: 'problem',
      async handler(_request, reply) {
        if (deps.draining()) return sendStatus(reply, 503, { status: 'draining' });
        const store = await storeCheck(deps.store, timeoutMs);
        const keys = deps.keys.active ? 'ok' : 'missing';
        const ready = store === 'ok' && keys === 'ok';
        return sendStatus(reply, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks: { store, keys } });
      },
    },
  ];
}
