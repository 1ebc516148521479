import type { Store } from '../store.ts';
import { actionTokenUseRecords, toolPolicyRecords } from './action-approval-records.ts';
import { adminTokenRecords } from './admin-token-records.ts';
import { approvalRequestRecords, decodeApprovalRow } from './approval-request-records.ts';
import { approvalWebhookRecords } from './approval-webhook-records.ts';
import { auditRecords } from './audit-records.ts';
import { clientRecords } from './client-records.ts';
import { clientRegistrationRecords } from './client-registration-records.ts';
import { guardedDriver, type SqlDriver } from './driver.ts';
import { applyMigrations } from './migrations.ts';
import { resourceRecords, scopePolicyRecords } from './resource-records.ts';
import { signingKeyRecords } from './signing-key-records.ts';
import { consentRecords, userGrantRecords } from './grant-records.ts';
import { pendingAuthorizationRecords } from './pending-authorization-records.ts';
import { pushedAuthorizationRecords } from './pushed-authorization-records.ts';
import { deviceAuthorizationRecords } from './device-authorization-records.ts';
import { rateLimitRecords } from './rate-limit-records.ts';
import { sessionRecords } from './session-records.ts';
import { replayRecords, revocationRecords } from './token-records.ts';
import { revocationEventLog } from './revocation-event-records.ts';
import { revocationWebhookRecords } from './revocation-webhook-records.ts';
import { transactionTokenRecords } from './transaction-token-records.ts';
import { delegationPolicyRecords } from './delegation-policy-records.ts';
import { passkeyRecords, userRecords } from './user-records.ts';

/** Consumed codes are kept this long past their expiry, so a late replay still finds (and revokes) its grant. */
const CODE_RETENTION_SECONDS = 86_400;

/** Assembles the record families over one driver. The dialects differ only in their driver and migrations. */
export function createSqlStore(driver: SqlDriver, migrationsDirectory: string): Store {
  const db = guardedDriver(driver);
  const { append: _append, appendCutoff: _cutoff, ...events } = revocationEventLog(db);
  const eventLog = { append: _append, appendCutoff: _cutoff };
  return {
    dialect: db.dialect,
    ...clientRecords(db, eventLog),
    ...resourceRecords(db, eventLog),
    ...scopePolicyRecords(db),
    ...approvalRequestRecords(db),
    ...adminTokenRecords(db),
    ...signingKeyRecords(db),
    ...revocationRecords(db, eventLog),
    ...transactionTokenRecords(db),
    ...events,
    ...revocationWebhookRecords(db),
    ...approvalWebhookRecords(db, decodeApprovalRow),
    ...delegationPolicyRecords(db),
    ...replayRecords(db),
    ...auditRecords(db),
    ...userRecords(db, eventLog),
    ...passkeyRecords(db),
    ...sessionRecords(db),
    ...userGrantRecords(db, eventLog),
    ...consentRecords(db),
    ...pendingAuthorizationRecords(db),
    ...pushedAuthorizationRecords(db),
    ...deviceAuthorizationRecords(db),
    ...rateLimitRecords(db),
    ...clientRegistrationRecords(db),
    ...toolPolicyRecords(db),
    ...actionTokenUseRecords(db),
    migrate: () => applyMigrations(db, migrationsDirectory),
    async purgeExpired(now) {
      let purged = 0;
      purged += await db.run('DELETE FROM revoked_tokens WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM token_lineage WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM transaction_tokens WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM revocation_events WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM revocation_webhook_deliveries WHERE event_id NOT IN (SELECT id FROM revocation_events)');
      // The approval webhooks' delivery log keeps a finished delivery for 30 days.
      purged += await db.run("DELETE FROM approval_webhook_deliveries WHERE status <> 'pending' AND updated_at < ?", [now - 30 * 86_400]);
      purged += await db.run('DELETE FROM replay_markers WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM action_token_uses WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM sessions WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM upstream_login_states WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM pending_authorizations WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM pushed_authorizations WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM device_authorizations WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM rate_limit_counts WHERE window_start < ?', [now - 120]);
      purged += await db.run('DELETE FROM login_throttle WHERE locked_until < ? AND updated_at < ?', [now, now - 86_400]);
      purged += await db.run('DELETE FROM authorization_codes WHERE expires_at < ?', [now - CODE_RETENTION_SECONDS]);
      purged += await db.run('DELETE FROM refresh_tokens WHERE expires_at < ?', [now]);
      // A grant past its family's end has no live token left; its row goes with its codes and refresh tokens.
      purged += await db.run('DELETE FROM user_grants WHERE expires_at < ?', [now]);
      return purged;
    },
    async ping() {
      await db.get('SELECT 1 AS one');
    },
    close: () => db.close(),
  };
}
