import type { AuditLog } from '../audit/audit-log.ts';
import type { MandateConfig } from '../config.ts';
import type { Store } from '../store/store.ts';

/**
 * What a management operation needs; the CLI and the admin API build it the same way. Each module names the store
 * slice its operations call (`ClientStore`, `ResourceStore`, …); the CLI hands them the whole store.
 */
export interface ManagementDeps<S = Store> {
  store: S;
  audit: Pick<AuditLog, 'record'>;
  config: MandateConfig;
  now: number;
  /** Who acts: `cli`, `admin:<token id>`. */
  actor: string;
}
