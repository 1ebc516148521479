import { z } from 'zod';

import { group, issuerUrl, oneOf, seconds, trustedProxy, wholeNumber, yesNo } from './option-types.ts';

/** Where the server answers and where its data lives. */
export const processOptions = {
  /**
   * Public base URL: the `iss` of every token and the prefix of every endpoint (it may have a path). Default
   * `http://localhost:8787`, or `http://localhost:<port>` when only a port is given: right for a first local start;
   * a deployment sets its public https URL. Env MANDATE_ISSUER.
   */
  issuer: issuerUrl.default('http://localhost:8787'),
  /** Interface `serve` listens on. Default 127.0.0.1, so that a first start is not exposed to the network. Env MANDATE_HOST. */
  host: z.string().min(1, 'must be a host name or address').default('127.0.0.1'),
  /** TCP port `serve` listens on; 0 picks a free one. Default 8787 (unassigned, and close to the usual 8080). Env PORT. */
  port: wholeNumber(0, 65_535).default(8787),
  /**
   * Where the data lives: `sqlite:<path>` (embedded, one process or several on one machine) or
   * `postgres://user@host:port/db[?schema=s&pool=n]` (several instances). Default `sqlite:./.mandate/mandate.db`:
   * nothing to install for a first start. Env MANDATE_DATABASE_URL.
   */
  databaseUrl: z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<path> or postgres://…').default('sqlite:./.mandate/mandate.db'),
  /**
   * Where the replay markers live (DPoP proof `jti`s, client assertions, `jwt-bearer` grants: each accepted once):
   * unset, the database's `replay_markers` table; `redis://[user:password@]host[:port][/db]` (or `rediss://`), that
   * Redis, shared by every instance that names it, off the database's write path. Redis unreachable answers 503.
   * Env MANDATE_REDIS_URL.
   */
  redisUrl: z.string().regex(/^rediss?:\/\/.+/, 'must be redis://… or rediss://…').optional(),
  /**
   * SQLite `synchronous` pragma. Default NORMAL: with WAL it survives a process crash and keeps token issuance fast;
   * FULL also survives a power loss, at a write-latency cost. Env MANDATE_SQLITE_SYNCHRONOUS.
   */
  sqliteSynchronous: oneOf(['NORMAL', 'FULL']).default('NORMAL'),
  /**
   * How long a SQLite write waits for another process's write lock before the request is answered 503 with
   * Retry-After (SQLITE_BUSY). Default 5000 ms: longer than any write Mandate holds, short enough that a client
   * hears of a stuck lock. The wait blocks this process (node:sqlite is synchronous). Env MANDATE_SQLITE_BUSY_TIMEOUT_MS.
   */
  sqliteBusyTimeoutMs: wholeNumber(0, 60_000, 'milliseconds').default(5000),
};

/** How it runs: rate limits, HTTP, logs, retention, telemetry, metrics, shutdown, event polling. */
export const operationOptions = {
  rateLimit: group({
    /** Token-endpoint requests per minute per client (after authentication); 0 disables. Default 600: 10/s per client. Env MANDATE_RATE_LIMIT_CLIENT. */
    tokenPerClientPerMinute: wholeNumber(0, Number.MAX_SAFE_INTEGER).default(600),
    /** Token-endpoint requests per minute per address, authenticated or not; 0 disables. Default 1200. Env MANDATE_RATE_LIMIT_IP. */
    tokenPerIpPerMinute: wholeNumber(0, Number.MAX_SAFE_INTEGER).default(1200),
    /**
     * Count token-endpoint requests per clock minute across every instance on the database (synced once a
     * second), so that N instances allow each client and address its rate once, not N times; each instance may
     * still let one second of its own traffic past the limit. Default false: one instance needs no shared counts,
     * and they cost one database write per second under traffic. Env MANDATE_RATE_LIMIT_SHARED.
     */
    shared: yesNo().default(false),
  }),
  http: group({
    /** Largest request body accepted, in bytes; larger bodies get 413 before they are parsed. Default 65536: OAuth requests are small. */
    bodyLimitBytes: wholeNumber(1024, 10_485_760).default(65_536),
    /**
     * Which peers may say, in `X-Forwarded-For`, whom they forward for: `false` (none: the client address is the
     * socket's), a list of the proxies' addresses or CIDRs (`['10.0.0.0/8', '::1']`; also `loopback`, `linklocal`,
     * `uniquelocal`), or the number of proxies in front (hops). The client address is then the right-most address
     * of the chain that is not a trusted proxy: what every per-address rate limit, the login throttle and the
     * audit's `ip` use. Never "trust everything": the left-most entries are the client's to write (SR-09). A hop
     * count trusts whoever connects, so use it only when nothing reaches the server except through the proxies.
     * Default false. Env MANDATE_TRUST_PROXY (`10.0.0.0/8,::1`, or `1`).
     */
    trustProxy: z
      .union([z.literal(false), wholeNumber(1, 10), z.array(trustedProxy).min(1).max(100)], {
        error: 'must be false, a number of proxy hops (1–10), or a list of proxy addresses or CIDRs',
      })
      .default(false),
  }),
  /** pino level of the server log; secrets and tokens are never logged at any level. Default info. Env MANDATE_LOG_LEVEL. */
  logLevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  /**
   * One JSON log line per answered request (request id, method, route, path without its query, status, duration,
   * client address) at level info. Default false: on the token hot path a log line costs more than the token
   * logic, and a proxy in front usually keeps an access log already. Env MANDATE_LOG_REQUESTS.
   */
  logRequests: yesNo().default(false),
  retention: group({
    /**
     * Audit rows older than this many days are deleted (at start and every ten minutes), leaving a checkpoint from
     * which `mandate audit verify` still checks the chain; rows are verified before they are deleted, and a broken
     * chain is never pruned. Default: none, every row is kept (the trail grows ~600 bytes per token on
     * PostgreSQL). Env MANDATE_AUDIT_RETENTION_DAYS.
     */
    auditDays: wholeNumber(1, 36_500).optional(),
  }),
  /**
   * OpenTelemetry traces (issue 13 item 5): a span per request (method, route, status, the authenticated client)
   * with a child span per store call, exported as OTLP/HTTP JSON to `<otlpEndpoint>/v1/traces`. Off unless an
   * endpoint is set; off, no OpenTelemetry package is even loaded. Spans never carry tokens, secrets, headers or
   * query strings.
   */
  telemetry: group({
    /**
     * OTLP/HTTP base URL of a collector (e.g. `http://otel-collector:4318`). Default: none (no traces). Env
     * MANDATE_OTEL_ENDPOINT, or the standard OTEL_EXPORTER_OTLP_ENDPOINT (Mandate's wins when both are set).
     */
    otlpEndpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** `service.name` of the spans. Default mandate. Env OTEL_SERVICE_NAME. */
    serviceName: z.string().min(1, 'must be a name').max(200).default('mandate'),
  }),
  metrics: group({
    /**
     * Port of the Prometheus endpoint (`GET /metrics`), served by a listener of its own so that it is never
     * reachable through the public issuer URL by accident. Default: none (no metrics listener). Env MANDATE_METRICS_PORT.
     */
    port: wholeNumber(0, 65_535).optional(),
    /**
     * Interface of the metrics listener. Default 127.0.0.1: a scraper on the same host (or a sidecar); set an
     * internal address (`0.0.0.0` inside a container whose port is not published) to scrape from elsewhere. Env MANDATE_METRICS_HOST.
     */
    host: z.string().min(1, 'must be a host name or address').default('127.0.0.1'),
  }),
  /**
   * On SIGTERM or SIGINT the server stops accepting connections, answers the requests it has (and those already
   * on open connections, which it then closes), commits the pending audit rows and exits. Requests still running
   * after this many seconds are cut off. Default 10: below the 30 s a Kubernetes pod gets, and a token request
   * takes milliseconds. Env MANDATE_SHUTDOWN_GRACE.
   */
  shutdownGraceSeconds: seconds(0, 600).default(10),
  /**
   * How often a revocation-event stream (GET /revocation-events) reads the shared event log for events another
   * instance wrote, in milliseconds; events this instance writes wake its streams at once. Default 1000: a
   * resource learns of a revocation made on another instance within about a second. Env
   * MANDATE_REVOCATION_EVENTS_POLL_MS.
   */
  revocationEventsPollMs: z.number().int().min(50).max(60_000).default(1000),
  /**
   * Development only: accept `http://localhost` (127.0.0.1, [::1]) revocation webhook URLs, delivered to loopback
   * addresses only; otherwise a webhook must be https and is delivered to public addresses only (SSRF). Default
   * false. Env MANDATE_REVOCATION_WEBHOOK_ALLOW_HTTP_LOCALHOST.
   */
  revocationWebhookAllowHttpLocalhost: yesNo().default(false),
};
