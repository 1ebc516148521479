import { z } from 'zod';
import type { AdminTokenRecords, UserRecords } from '../store/store.ts';
import { normalizeEmail } from '../users/email-address.ts';
import { ADMIN_TOKEN_PREFIX, hashSecret, newPrefixedCredential } from '../tokens/secret.ts';
import { parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/** Admin API tokens: created from the CLI (the bootstrap credential), shown once, stored as a SHA-256. */

/**
 * `role`: what the token may do (`admin`: everything; `approver`: read and decide approval requests; `viewer`: read
 * them). `user`: the user (id or email) the token speaks for; approvals it decides are recorded as that user's.
 */
const createSchema = z
  .object({ name: z.string().trim().min(1).max(200), role: z.enum(['admin', 'approver', 'viewer']).default('admin'), user: z.string().min(1).max(320).optional() })
  .strict();

export type AdminTokenStore = AdminTokenRecords & Pick<UserRecords, 'getUser' | 'getUserByEmail'>;

export async function createAdminToken(input: unknown, deps: ManagementDeps<AdminTokenStore>): Promise<{ id: string; name: string; role: string; user_id: string | null; token: string }> {
  const { name, role, user } = parseInput(createSchema, input);
  let userId: string | null = null;
  if (user !== undefined) {
    const email = normalizeEmail(user);
    const found = (await deps.store.getUser(user)) ?? (email.ok ? await deps.store.getUserByEmail(email.email) : null);
    if (!found) throw new ManagementError('not-found', `no user ${user}`);
    userId = found.id;
  }
  const credential = newPrefixedCredential(ADMIN_TOKEN_PREFIX);
  await deps.store.createAdminToken({ id: credential.id, name, role, userId, secretHash: hashSecret(credential.secret), createdAt: deps.now, revokedAt: null });
  await deps.audit.record({ event: 'admin_token.created', actor: deps.actor, subject: `admin:${credential.id}`, detail: { name, role, user_id: userId } });
  return { id: credential.id, name, role, user_id: userId, token: credential.credential };
}

export async function listAdminTokens(deps: Pick<ManagementDeps<AdminTokenRecords>, 'store'>) {
  return (await deps.store.listAdminTokens()).map((t) => ({ id: t.id, name: t.name, role: t.role, user_id: t.userId, created_at: t.createdAt, revoked_at: t.revokedAt }));
}

export async function revokeAdminToken(id: string, deps: ManagementDeps<AdminTokenRecords>): Promise<void> {
  if (!(await deps.store.revokeAdminToken(id, deps.now))) throw new ManagementError('not-found', `no active admin token ${id}`);
  await deps.audit.record({ event: 'admin_token.revoked', actor: deps.actor, subject: `admin:${id}` });
}
