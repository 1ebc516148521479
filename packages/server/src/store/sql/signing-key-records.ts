import type { SigningKeyRecord, SigningKeyRecords } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import { isUniqueViolation, type SqlDriver } from './driver.ts';

const signingKeyColumns: ColumnMap<SigningKeyRecord> = {
  kid: { column: 'kid' },
  alg: { column: 'alg' },
  publicJwk: { column: 'public_jwk', json: true },
  privateKeyEncrypted: { column: 'private_key_encrypted' },
  externalKeyRef: { column: 'external_key_ref' },
  status: { column: 'status' },
  createdAt: { column: 'created_at' },
  retiredAt: { column: 'retired_at' },
  publishUntil: { column: 'publish_until' },
  activatesAt: { column: 'activates_at' },
};

/** Lock key for key rotation on PostgreSQL (any constant distinct from the other locks). */
const KEY_ROTATION_LOCK = 0x6d6e_6b01;

export function signingKeyRecords(db: SqlDriver): SigningKeyRecords {
  return {
    async listSigningKeys() {
      return (await db.all('SELECT * FROM signing_keys ORDER BY created_at, kid')).map((r) => decodeRow(signingKeyColumns, r));
    },
    async insertFirstActiveKey(record) {
      try {
        await db.run(...insertStatement('signing_keys', signingKeyColumns, { ...record, status: 'active' }));
        return true;
      } catch (err) {
        // The partial unique index admits one active key; another instance won the race on first start.
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
    async rotateActiveKey(record, retiredAt, publishUntil, now, onlyIfActiveCreatedBefore) {
      return db.transaction(async (tx) => {
        const active = await tx.get("SELECT activates_at, created_at FROM signing_keys WHERE status = 'active'");
        if (active && active['activates_at'] !== null && Number(active['activates_at']) > now) return false;
        if (active && onlyIfActiveCreatedBefore !== undefined && Number(active['created_at']) >= onlyIfActiveCreatedBefore) return false;
        await tx.run("UPDATE signing_keys SET status = 'retired', retired_at = ?, publish_until = ? WHERE status = 'active'", [
          retiredAt,
          publishUntil,
        ]);
        await tx.run(...insertStatement('signing_keys', signingKeyColumns, { ...record, status: 'active' }));
        return true;
      }, KEY_ROTATION_LOCK);
    },
  };
}
