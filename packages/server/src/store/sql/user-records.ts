import type { PasskeyRecord, PasskeyRecords, UserIdentityRecord, UserRecord, UserRecords } from '../store.ts';
import { StoreConflictError } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement, updateStatement } from './columns.ts';
import { isUniqueViolation, type SqlDriver, type SqlExecutor, type SqlValue } from './driver.ts';
import { grantResources } from './grant-records.ts';
import { movesCutoff, type RevocationEventLog } from './revocation-event-records.ts';

const userColumns: ColumnMap<UserRecord> = {
  id: { column: 'id' },
  email: { column: 'email' },
  emailVerified: { column: 'email_verified', bool: true },
  name: { column: 'name' },
  passwordHash: { column: 'password_hash' },
  isAdmin: { column: 'is_admin', bool: true },
  roles: { column: 'roles', json: true },
  status: { column: 'status' },
  tokensValidAfter: { column: 'tokens_valid_after' },
  createdAt: { column: 'created_at' },
  updatedAt: { column: 'updated_at' },
};

const identityColumns: ColumnMap<UserIdentityRecord> = {
  issuer: { column: 'issuer' },
  subject: { column: 'subject' },
  userId: { column: 'user_id' },
  providerId: { column: 'provider_id' },
  email: { column: 'email' },
  createdAt: { column: 'created_at' },
};

const passkeyColumns: ColumnMap<PasskeyRecord> = {
  credentialId: { column: 'credential_id' },
  userId: { column: 'user_id' },
  publicKey: { column: 'public_key' },
  counter: { column: 'counter' },
  transports: { column: 'transports', json: true },
  name: { column: 'name' },
  createdAt: { column: 'created_at' },
  lastUsedAt: { column: 'last_used_at' },
};

async function insertOrConflict(db: SqlExecutor, statement: [string, SqlValue[]], what: string): Promise<void> {
  try {
    await db.run(...statement);
  } catch (err) {
    if (isUniqueViolation(err)) throw new StoreConflictError(`${what} exists`);
    throw err;
  }
}

export function userRecords(db: SqlDriver, events: Pick<RevocationEventLog, 'appendCutoff'>): UserRecords {
  const one = async (sql: string, params: string[]) => {
    const row = await db.get(sql, params);
    return row ? decodeRow(userColumns, row) : null;
  };
  /**
   * Where a user's cutoff goes: every token whose subject is the user carries one of their grants and targets only
   * that grant's resources (SR-03: exchanges and downstream exchanges stay within the consent; a hand-off targets
   * an agent, no resource), so the resources of all their grants are every resource such a token can reach.
   */
  const grantAudiences = async (userId: string) => grantResources(await db.all('SELECT resources FROM user_grants WHERE user_id = ?', [userId]));
  return {
    createUser: (record) => insertOrConflict(db, insertStatement('users', userColumns, record), 'a user with this id or email'),
    getUser: (id) => one('SELECT * FROM users WHERE id = ?', [id]),
    getUserByEmail: (email) => one('SELECT * FROM users WHERE email = ?', [email]),
    async listUsers() {
      return (await db.all('SELECT * FROM users ORDER BY created_at, id')).map((r) => decodeRow(userColumns, r));
    },
    async updateUser(id, patch) {
      const statement = updateStatement('users', userColumns, patch, 'id', id);
      if (!statement) return one('SELECT * FROM users WHERE id = ?', [id]);
      try {
        const row = await db.get(...statement);
        if (!row) return null;
        if (movesCutoff(patch)) await events.appendCutoff('user', id, patch, await grantAudiences(id));
        return decodeRow(userColumns, row);
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError('a user with this email exists');
        throw err;
      }
    },
    async deleteUser(id, now) {
      // Read before the delete: their grants go with the row.
      const aud = await grantAudiences(id);
      const deleted = (await db.run('DELETE FROM users WHERE id = ?', [id])) > 0;
      // Their grants went with the row, so their tokens are dead: the resources they reached learn it as a cutoff.
      if (deleted) await events.appendCutoff('user', id, { tokensValidAfter: now + 1, updatedAt: now }, aud);
      return deleted;
    },
    async createUserWithIdentity(user, identity) {
      await db.transaction(async (tx) => {
        await insertOrConflict(tx, insertStatement('users', userColumns, user), 'a user with this id or email');
        await insertOrConflict(tx, insertStatement('user_identities', identityColumns, identity), 'this upstream identity');
      });
    },
    linkIdentity: (record) => insertOrConflict(db, insertStatement('user_identities', identityColumns, record), 'this upstream identity'),
    async getIdentity(issuer, subject) {
      const row = await db.get('SELECT * FROM user_identities WHERE issuer = ? AND subject = ?', [issuer, subject]);
      return row ? decodeRow(identityColumns, row) : null;
    },
    async listIdentities(userId) {
      return (await db.all('SELECT * FROM user_identities WHERE user_id = ? ORDER BY created_at', [userId])).map((r) => decodeRow(identityColumns, r));
    },
  };
}

export function passkeyRecords(db: SqlExecutor): PasskeyRecords {
  return {
    createPasskey: (record) => insertOrConflict(db, insertStatement('passkeys', passkeyColumns, record), 'this passkey'),
    async getPasskey(credentialId) {
      const row = await db.get('SELECT * FROM passkeys WHERE credential_id = ?', [credentialId]);
      return row ? decodeRow(passkeyColumns, row) : null;
    },
    async listPasskeys(userId) {
      return (await db.all('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at', [userId])).map((r) => decodeRow(passkeyColumns, r));
    },
    async recordPasskeyUse(credentialId, counter, usedAt) {
      await db.run('UPDATE passkeys SET counter = ?, last_used_at = ? WHERE credential_id = ?', [counter, usedAt, credentialId]);
    },
    async deletePasskey(userId, credentialId) {
      return (await db.run('DELETE FROM passkeys WHERE user_id = ? AND credential_id = ?', [userId, credentialId])) > 0;
    },
  };
}
