import type { AdminTokenRecord, AdminTokenRecords } from '../store/store.ts';
import { ADMIN_TOKEN_PREFIX, parsePrefixedCredential, secretMatchesHash } from './secret.ts';

/** Resolves an admin token to its record, or null when it is unknown, revoked or wrong. */
export async function authenticateAdminToken(credential: string, store: Pick<AdminTokenRecords, 'getAdminToken'>): Promise<AdminTokenRecord | null> {
  const parsed = parsePrefixedCredential(ADMIN_TOKEN_PREFIX, credential);
  if (!parsed) return null;
  const record = await store.getAdminToken(parsed.id);
  if (!record || record.revokedAt !== null) return null;
  return secretMatchesHash(parsed.secret, record.secretHash) ? record : null;
}
