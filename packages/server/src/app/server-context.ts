import type { AuditLog } from '../audit/audit-log.ts';
import type { RefusalAudit } from '../audit/refusal-audit.ts';
import type { MandateConfig } from '../config.ts';
import type { ResolveHost } from '../flows/metadata-document-fetch.ts';
import type { ServerMetrics } from '../http/metrics.ts';
import type { SharedRateCounts } from '../http/shared-rate-counts.ts';
import type { KeyRing } from '../keys/key-ring.ts';

/** What the server is built from besides its store. */
export interface ServerContext {
  readonly config: MandateConfig;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  /** Audit rows of refused requests, counted rather than written one each (SR-20). */
  readonly refusals: RefusalAudit;
  /** The secret DPoP nonces are made from (derived from the KEK, so the same on every instance). */
  readonly dpopNonceSecret: Buffer;
  /** The key revocation-webhook secrets are encrypted under (derived from the KEK). */
  readonly webhookSecretKey: Buffer;
  /** The key RFC 8628 user codes are stored under (derived from the KEK). */
  readonly userCodeKey: Buffer;
  /** Current time in epoch seconds (injectable for tests). */
  now(): number;
  /** DNS resolution for client metadata documents (injectable for tests; the system resolver otherwise). */
  readonly resolveHost?: ResolveHost;
  /** True once shutdown began (`/readyz` answers 503, responses close their connections). */
  draining(): boolean;
  /** Prometheus counters, when `metrics.port` is set. */
  readonly metrics?: ServerMetrics;
  /** Token-endpoint request counts shared with the other instances on the database (synced by server.ts). */
  readonly sharedRateCounts?: SharedRateCounts;
}

/** The trust domain of Transaction Tokens: configured, or the issuer. */
export const trustDomainOf = (config: MandateConfig): string => config.transactionTokens.trustDomain ?? config.issuer;
