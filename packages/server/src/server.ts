import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { deriveAuditKey } from './audit/audit-chain.ts';
import { AuditLog } from './audit/audit-log.ts';
import { RefusalAudit } from './audit/refusal-audit.ts';
import { type ConfigOverrides, type MandateConfig, resolveConfig } from './config.ts';
import { buildApp, type ServerContext } from './app.ts';
import type { ServerMetrics } from './http/metrics.ts';
import { SharedRateCounts } from './http/shared-rate-counts.ts';
import { type RequestTracing, startTracing } from './http/tracing.ts';
import type { ResolveHost } from './flows/metadata-document-fetch.ts';
import { deriveUserCodeKey, deriveWebhookSecretKey, loadKek } from './keys/kek.ts';
import { systemResolver } from './flows/metadata-document-fetch.ts';
import { revocationWebhookDispatcher } from './flows/revocation-webhooks.ts';
import { cibaPingDispatcher } from './flows/ciba-ping.ts';
import { approvalWebhookDispatcher } from './flows/approval-webhooks.ts';
import { endResourceKeyGraces } from './management/resources.ts';
import { deriveDpopNonceSecret } from './oauth/dpop.ts';
import { type KeyCustody, openKeyCustody } from './keys/key-custody.ts';
import { KeyRing } from './keys/key-ring.ts';
import { openStore } from './store/open-store.ts';
import { redisReplayMarkers, withReplayMarkers } from './store/redis/replay-markers.ts';
import type { Store } from './store/store.ts';

export interface RunningServer {
  /** The issuer, which is also the base URL of every endpoint. */
  readonly issuer: string;
  readonly port: number;
  readonly config: MandateConfig;
  readonly context: ServerContext;
  /** The store the server runs on (the app hands out only slices of it). */
  readonly store: Store;
  readonly app: FastifyInstance;
  /** The port of the Prometheus listener, when `metrics.port` is set. */
  readonly metricsPort: number | undefined;
  /**
   * Graceful shutdown: `/readyz` turns 503, no new connection is accepted, the requests under way are answered
   * (each response then closes its connection) for up to `shutdownGraceSeconds`, then the pending audit rows are
   * committed and the store is closed.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Injectable clock (epoch seconds), for tests. */
  now?: () => number;
  /** Where the JSON log lines go (default stdout). */
  logStream?: { write(line: string): void };
  /** Injectable DNS resolution for client metadata documents, for tests (the connection still goes to the checked address). */
  resolveHost?: ResolveHost;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Opens the store (applying migrations), loads or creates the signing keys, and serves the app. `overrides` is the
 * configuration over the defaults, or several layers of it, later ones winning (the CLI passes the environment's,
 * then its flags'). The port is bound first, so with port 0 and no configured issuer the issuer becomes
 * `http://localhost:<bound port>`.
 */
export async function startServer(overrides: ConfigOverrides | readonly ConfigOverrides[], options: StartOptions = {}): Promise<RunningServer> {
  const layers: readonly ConfigOverrides[] = Array.isArray(overrides) ? overrides : [overrides as ConfigOverrides];
  const provisional = resolveConfig(...layers);
  const http = createServer({ keepAliveTimeout: 65_000 });
  const port = await listen(http, provisional.port, provisional.host);
  const config = layers.some((layer) => layer.issuer) ? provisional : resolveConfig(...layers, { issuer: `http://localhost:${port}` });
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));

  let store: Store | undefined;
  let custody: KeyCustody | undefined;
  let metricsListener: { server: Server; port: number } | undefined;
  let tracing: RequestTracing | undefined;
  try {
    const { otlpEndpoint, serviceName } = config.telemetry;
    // Imported only when configured: without an endpoint no OpenTelemetry module is loaded (tracing.ts).
    if (otlpEndpoint !== undefined) tracing = await startTracing({ endpoint: otlpEndpoint, serviceName });
    store = await openStore(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous, sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs });
    await store.migrate();
    // Replay markers in Redis when configured (issue 11 item 4); the store's table otherwise.
    if (config.redisUrl !== undefined) store = withReplayMarkers(store, redisReplayMarkers(config.redisUrl));
    // Every store call made while answering a request becomes a child span of the request's.
    if (tracing) store = tracing.traced(store, 'store', { 'db.system': store.dialect === 'postgres' ? 'postgresql' : 'sqlite' });
    const kek = loadKek(config.keys);
    custody = await openKeyCustody(config.keys, kek);
    // With tracing, each signature is a span of the request it signs for (its algorithm and kid; never what it signs),
    // an external signer's call included.
    const traceSign = tracing && ((key: { kid: string; alg: string }, sign: (input: Buffer) => Buffer | Promise<Buffer>) => (input: Buffer) => tracing!.span('sign', { 'jws.alg': key.alg, 'jws.kid': key.kid }, () => sign(input)));
    const keys = await KeyRing.open(store, custody, config.keys.algorithm, now, traceSign);
    const audit = new AuditLog(store, deriveAuditKey(kek));
    const opened = store;
    const refusals = new RefusalAudit(audit, now);
    let draining = false;
    // prom-client (and what it loads) only when metrics are configured.
    const metricsModule = config.metrics.port === undefined ? undefined : await import('./http/metrics.ts');
    const metrics: ServerMetrics | undefined = metricsModule
      ? new metricsModule.ServerMetrics({
          auditQueueDepth: () => audit.queueDepth,
          pendingApprovals: async () => (await opened.listApprovalRequests({ status: 'pending' }, now())).length,
        })
      : undefined;
    const sharedRateCounts = config.rateLimit.shared ? new SharedRateCounts(opened, now) : undefined;
    const context: ServerContext = { config, keys, audit, refusals, dpopNonceSecret: deriveDpopNonceSecret(kek), webhookSecretKey: deriveWebhookSecretKey(kek), userCodeKey: deriveUserCodeKey(kek), now, draining: () => draining, metrics, sharedRateCounts, ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}) };
    const app = await buildApp(context, opened, { server: http, logStream: options.logStream, ...(tracing ? { tracing } : {}) });
    if (metricsModule && metrics) metricsListener = await metricsModule.serveMetrics(metrics, config.metrics.port!, config.metrics.host);
    const metricsServer = metricsListener?.server;

    // Each reload also makes a scheduled rotation when one is due (keys.rotationIntervalSeconds); the store lets
    // one instance make it, and the others publish it at their next reload.
    const { rotationIntervalSeconds } = config.keys;
    const rotateIfDue = async () => {
      if (rotationIntervalSeconds === undefined || draining) return;
      const rotated = await keys.rotateIfDue(config.keys.algorithm, rotationIntervalSeconds, config.tokens.maxAccessTokenTtlSeconds, config.keys.publishAheadSeconds);
      if (rotated) {
        app.log.info({ kid: rotated.kid, retired_kid: rotated.retiredKid, activates_at: rotated.activatesAt }, 'signing key rotated on schedule');
        await audit.record({ event: 'key.rotated', actor: 'schedule', detail: KeyRing.rotationView(rotated) });
      }
    };
    const reload = setInterval(
      () => void keys.reload().then(rotateIfDue).catch((err) => app.log.error({ err }, 'key reload or scheduled rotation failed')),
      config.keys.reloadIntervalSeconds * 1000,
    );
    // Retention: expired rows every ten minutes; audit rows past the horizon, when one is configured, also at start.
    const { auditDays } = config.retention;
    const pruneAudit = () => auditDays !== undefined && void audit.prune((now() - auditDays * 86_400) * 1000).catch((err) => app.log.error({ err }, 'audit retention failed'));
    pruneAudit();
    const purge = setInterval(() => {
      void opened.purgeExpired(now()).catch((err) => app.log.error({ err }, 'purge failed'));
      pruneAudit();
    }, 600_000);
    // Counts of refused requests are written once their minute is over, even when no new request comes to do it.
    const countRefusals = setInterval(() => void refusals.flush().catch((err) => app.log.error({ err }, 'refusal counts failed')), 10_000);
    // Rate-limit counts go to the database once a second, so that every instance on it sees every other's.
    const shareRateCounts = sharedRateCounts && setInterval(() => void sharedRateCounts.sync().catch((err) => app.log.error({ err }, 'rate-limit counts failed')), 1000);
    shareRateCounts?.unref();
    // Revocation webhooks: a round when this instance appends an event, and every poll interval for other
    // instances' events and for retries that fell due on the clock; one round at a time.
    const webhooks = revocationWebhookDispatcher({
      webhooks: opened,
      secretKey: context.webhookSecretKey,
      resolveHost: options.resolveHost ?? systemResolver,
      allowHttpLocalhost: config.revocationWebhookAllowHttpLocalhost,
      timeoutMs: 5000,
      now,
    });
    // CIBA pings go out in the same rounds: a decision on any instance is due at once and found on the next one.
    const pings = cibaPingDispatcher({
      approvals: opened,
      sealKey: context.webhookSecretKey,
      resolveHost: options.resolveHost ?? systemResolver,
      allowHttpLocalhost: config.revocationWebhookAllowHttpLocalhost,
      timeoutMs: 5000,
      now,
    });
    // Approval webhooks too; each round first closes the approval requests past their expiry (queueing their events).
    const approvalHooks = approvalWebhookDispatcher({
      approvals: opened,
      webhooks: opened,
      secretKey: context.webhookSecretKey,
      resolveHost: options.resolveHost ?? systemResolver,
      timeoutMs: 5000,
      now,
    });
    let delivering: Promise<void> | null = null;
    let deliverAgain = false;
    const deliver = (): void => {
      if (delivering) {
        deliverAgain = true;
        return;
      }
      delivering = Promise.all([
        webhooks.run().catch((err) => app.log.error({ err }, 'revocation webhooks failed')),
        pings.run().catch((err) => app.log.error({ err }, 'CIBA pings failed')),
        approvalHooks.run().catch((err) => app.log.error({ err }, 'approval webhooks failed')),
      ])
        .then(() => undefined)
        .finally(() => {
          delivering = null;
          if (deliverAgain && !draining) {
            deliverAgain = false;
            deliver();
          }
        });
    };
    const deliverTimer = setInterval(deliver, config.revocationEventsPollMs);
    deliverTimer.unref();
    // A rotated resource key's grace period ends on the clock: its tokens' cutoff event is appended then (issue 11).
    let endingGraces: Promise<unknown> | null = null;
    const endGraces = setInterval(() => {
      if (endingGraces || draining) return;
      endingGraces = endResourceKeyGraces(opened, now())
        .catch((err) => app.log.error({ err }, 'ending resource key grace periods failed'))
        .finally(() => (endingGraces = null));
    }, config.revocationEventsPollMs);
    endGraces.unref();
    const stopWake = opened.onRevocationEvent(deliver);
    // An approval event made here (created, decided) goes out at once, with the CIBA ping a decision queues.
    const stopApprovalWake = opened.onApprovalEvent(deliver);
    reload.unref();
    purge.unref();
    countRefusals.unref();

    let closed: Promise<void> | null = null;
    return {
      issuer: config.issuer,
      port,
      config,
      context,
      store: opened,
      app,
      metricsPort: metricsListener?.port,
      close() {
        closed ??= (async () => {
          draining = true;
          clearInterval(reload);
          clearInterval(purge);
          clearInterval(countRefusals);
          clearInterval(shareRateCounts);
          clearInterval(deliverTimer);
          clearInterval(endGraces);
          stopWake();
          stopApprovalWake();
          // Fastify did not call listen() itself, so it leaves the server to us. close() stops accepting and ends
          // idle keep-alive connections; a busy one ends after its response, which `draining` marks Connection: close.
          const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
          http.closeIdleConnections();
          const cutOff = setTimeout(() => http.closeAllConnections(), config.shutdownGraceSeconds * 1000);
          await stopped;
          clearTimeout(cutOff);
          await app.close();
          if (metricsServer) {
            const metricsStopped = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
            metricsServer.closeAllConnections();
            await metricsStopped;
          }
          await refusals.flush({ all: true });
          await sharedRateCounts?.sync().catch((err) => app.log.error({ err }, 'rate-limit counts failed'));
          await delivering;
          await endingGraces;
          await audit.flush();
          await opened.close();
          await custody?.close();
          await tracing?.shutdown().catch((err: unknown) => app.log.error({ err }, 'trace export failed'));
        })();
        return closed;
      },
    };
  } catch (err) {
    http.close();
    metricsListener?.server.close();
    await store?.close();
    await custody?.close().catch(() => {});
    await tracing?.shutdown().catch(() => {});
    throw err;
  }
}
