import type {
  AuthorizationCodeRecord,
  ConsentRecord,
  ConsentRecords,
  RefreshTokenRecord,
  UserGrantRecord,
  UserGrantRecords,
} from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlDriver, SqlExecutor } from './driver.ts';
import type { RevocationEventLog } from './revocation-event-records.ts';

const grantColumns: ColumnMap<UserGrantRecord> = {
  id: { column: 'id' },
  userId: { column: 'user_id' },
  clientId: { column: 'client_id' },
  actorId: { column: 'actor_id' },
  scopes: { column: 'scopes', json: true },
  resources: { column: 'resources', json: true },
  authTime: { column: 'auth_time' },
  amr: { column: 'amr', json: true },
  status: { column: 'status' },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
  revokedAt: { column: 'revoked_at' },
};

/**
 * The resources of revoked grants: every token of a grant (its own, and those exchanged from them) targets only
 * the grant's resources (lifecycle/token-lifecycle.ts, SR-03), so its revocation event goes to those alone.
 */
export function grantResources(rows: readonly Record<string, unknown>[]): string[] {
  const all = new Set<string>();
  for (const row of rows) {
    const raw = row['resources'];
    for (const uri of (typeof raw === 'string' ? JSON.parse(raw) : raw) as string[]) all.add(uri);
  }
  return [...all];
}

const codeColumns: ColumnMap<AuthorizationCodeRecord> = {
  codeHash: { column: 'code_hash' },
  grantId: { column: 'grant_id' },
  redirectUri: { column: 'redirect_uri' },
  codeChallenge: { column: 'code_challenge' },
  nonce: { column: 'nonce' },
  expiresAt: { column: 'expires_at' },
  consumedAt: { column: 'consumed_at' },
  dpopJkt: { column: 'dpop_jkt' },
  authorizationDetails: { column: 'authorization_details', json: true },
};

const refreshColumns: ColumnMap<RefreshTokenRecord> = {
  tokenHash: { column: 'token_hash' },
  grantId: { column: 'grant_id' },
  status: { column: 'status' },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
  dpopJkt: { column: 'dpop_jkt' },
};

const consentColumns: ColumnMap<ConsentRecord> = {
  userId: { column: 'user_id' },
  clientId: { column: 'client_id' },
  actorId: { column: 'actor_id' },
  resource: { column: 'resource' },
  scopes: { column: 'scopes', json: true },
  createdAt: { column: 'created_at' },
  updatedAt: { column: 'updated_at' },
};

/**
 * Writes issued refresh tokens in the audit batch's transaction (audit-records.ts), one statement, except those whose
 * grant is gone by then: a deleted user's or client's grant (or an expired one, purged) takes its tokens with it, and
 * the batch's other rows must not fail for it.
 */
export async function insertIssuedRefreshTokens(tx: SqlExecutor, records: readonly RefreshTokenRecord[]): Promise<void> {
  const grantIds = [...new Set(records.map((record) => record.grantId))];
  const rows = await tx.all(`SELECT id FROM user_grants WHERE id IN (${grantIds.map(() => '?').join(', ')})`, grantIds);
  const alive = new Set(rows.map((row) => String(row['id'])));
  const statements = records.filter((record) => alive.has(record.grantId)).map((record) => insertStatement('refresh_tokens', refreshColumns, record));
  if (statements.length === 0) return;
  const [first] = statements[0]!;
  const tuple = first.slice(first.indexOf(' VALUES ') + ' VALUES '.length);
  await tx.run(`${first}${`, ${tuple}`.repeat(statements.length - 1)}`, statements.flatMap(([, values]) => values));
}

export function userGrantRecords(db: SqlDriver, events: Pick<RevocationEventLog, 'append'>): UserGrantRecords {
  const grant = async (id: string) => {
    const row = await db.get('SELECT * FROM user_grants WHERE id = ?', [id]);
    return row ? decodeRow(grantColumns, row) : null;
  };
  return {
    async createGrantWithCode(record, code) {
      await db.transaction(async (tx) => {
        await tx.run(...insertStatement('user_grants', grantColumns, record));
        await tx.run(...insertStatement('authorization_codes', codeColumns, code));
      });
    },
    async createGrant(record) {
      await db.run(...insertStatement('user_grants', grantColumns, record));
    },
    getGrant: grant,
    async listUserGrants(userId) {
      return (await db.all('SELECT * FROM user_grants WHERE user_id = ? ORDER BY created_at, id', [userId])).map((r) => decodeRow(grantColumns, r));
    },
    async listRecentGrants(userId, clientId, actorId, now, limit) {
      // No tie-breaker after created_at: the index then yields rows in order and the LIMIT stops the scan (with `id`
      // added, SQLite sorted every grant of the second, and a busy user's grants share their second by thousands).
      const rows = await db.all(
        "SELECT * FROM user_grants WHERE user_id = ? AND client_id = ? AND COALESCE(actor_id, '') = ? AND status = 'active' AND expires_at > ? ORDER BY created_at DESC LIMIT ?",
        [userId, clientId, actorId ?? '', now, limit],
      );
      return rows.map((r) => decodeRow(grantColumns, r));
    },
    async listActiveGrants(now, limit) {
      const rows = await db.all("SELECT * FROM user_grants WHERE status = 'active' AND expires_at > ? ORDER BY created_at DESC LIMIT ?", [now, limit]);
      return rows.map((r) => decodeRow(grantColumns, r));
    },
    async revokeGrant(id, now) {
      const row = await db.get("UPDATE user_grants SET status = 'revoked', revoked_at = ? WHERE id = ? AND status = 'active' RETURNING expires_at, resources", [now, id]);
      if (row === undefined) return false;
      await events.append({ gid: [id], aud: grantResources([row]) }, now, Number(row['expires_at']));
      return true;
    },
    async revokeGrantsOf(party, now) {
      const [where, id] = 'userId' in party ? ['user_id = ?', party.userId] : ['(client_id = ? OR actor_id = ?)', party.clientId];
      const params = 'userId' in party ? [now, id] : [now, id, id];
      const rows = await db.all(`UPDATE user_grants SET status = 'revoked', revoked_at = ? WHERE status = 'active' AND ${where} RETURNING id, expires_at, resources`, params);
      if (rows.length > 0) await events.append({ gid: rows.map((row) => String(row['id'])), aud: grantResources(rows) }, now, Math.max(...rows.map((row) => Number(row['expires_at']))));
      return rows.map((row) => String(row['id']));
    },
    async redeemAuthorizationCode(codeHash, now) {
      // One UPDATE decides the race: only the caller whose statement flips consumed_at gets the code. The grant is
      // read in the same transaction, before it commits: a concurrent replay sees the code consumed only after the
      // commit, so its revocation of the grant (RFC 6749 §4.1.2) cannot reach the winner's read and fail the winner
      // too. The winner's tokens are revoked by that replay all the same (they carry the grant's id).
      const redeemed = await db.transaction(async (tx) => {
        const row = await tx.get('UPDATE authorization_codes SET consumed_at = ? WHERE code_hash = ? AND consumed_at IS NULL RETURNING *', [now, codeHash]);
        if (!row) return null;
        const code = decodeRow(codeColumns, row);
        const owner = await tx.get('SELECT * FROM user_grants WHERE id = ?', [code.grantId]);
        return { code, owner: owner ? decodeRow(grantColumns, owner) : null };
      });
      if (redeemed) return redeemed.owner ? { status: 'redeemed', code: redeemed.code, grant: redeemed.owner } : { status: 'unknown' };
      const consumed = await db.get('SELECT grant_id FROM authorization_codes WHERE code_hash = ?', [codeHash]);
      const owner = consumed ? await grant(String(consumed['grant_id'])) : null;
      return owner ? { status: 'replayed', grant: owner } : { status: 'unknown' };
    },
    async createRefreshToken(record) {
      await db.run(...insertStatement('refresh_tokens', refreshColumns, record));
    },
    async getRefreshToken(tokenHash) {
      const row = await db.get('SELECT * FROM refresh_tokens WHERE token_hash = ?', [tokenHash]);
      return row ? decodeRow(refreshColumns, row) : null;
    },
    async retireRefreshToken(oldHash) {
      const changed = await db.run("UPDATE refresh_tokens SET status = 'rotated' WHERE token_hash = ? AND status = 'active'", [oldHash]);
      if (changed > 0) return 'rotated';
      return (await db.get('SELECT 1 AS found FROM refresh_tokens WHERE token_hash = ?', [oldHash])) ? 'reused' : 'unknown';
    },
  };
}

export function consentRecords(db: SqlDriver): ConsentRecords {
  return {
    async getConsent(userId, clientId, actorId, resource) {
      const row = await db.get('SELECT * FROM consents WHERE user_id = ? AND client_id = ? AND actor_id = ? AND resource = ?', [userId, clientId, actorId, resource]);
      return row ? decodeRow(consentColumns, row) : null;
    },
    async saveConsent(record) {
      const [sql, values] = insertStatement('consents', consentColumns, record);
      await db.run(`${sql} ON CONFLICT (user_id, client_id, actor_id, resource) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`, values);
    },
    async listConsents(userId) {
      return (await db.all('SELECT * FROM consents WHERE user_id = ? ORDER BY created_at, client_id', [userId])).map((r) => decodeRow(consentColumns, r));
    },
    async deleteConsent(userId, clientId, actorId, resource) {
      return (await db.run('DELETE FROM consents WHERE user_id = ? AND client_id = ? AND actor_id = ? AND resource = ?', [userId, clientId, actorId, resource])) > 0;
    },
  };
}
