import { z } from 'zod';
import type { PasskeyRecord, PasskeyRecords, SessionRecords, UserGrantRecords, UserRecord, UserRecords } from '../store/store.ts';
import { StoreConflictError } from '../store/store.ts';
import { newId } from '../tokens/secret.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../users/password.ts';
import { normalizeEmail } from '../users/email-address.ts';
import { emailAddress, parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/** User management, shared by `mandate user …` and `/admin/v1/users`. Every change is audited; no password ever is. */

export interface UserView {
  id: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  is_admin: boolean;
  /** Roles a scope policy may require (`role_required`). */
  roles: string[];
  status: UserRecord['status'];
  has_password: boolean;
  created_at: number;
  updated_at: number;
}

function userView(record: UserRecord): UserView {
  return {
    id: record.id,
    email: record.email,
    email_verified: record.emailVerified,
    name: record.name,
    is_admin: record.isAdmin,
    roles: record.roles,
    status: record.status,
    has_password: record.passwordHash !== null,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

const password = z.string().min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`).max(MAX_PASSWORD_LENGTH);

/** A role name: lower-case letters, digits, `_`, `-`, `:` (e.g. `approver`, `finance:lead`). */
const roles = z.array(z.string().regex(/^[a-z0-9][a-z0-9_:-]{0,63}$/, 'must be a role name (a-z, 0-9, _ - :)')).max(32).transform((list) => [...new Set(list)]);

const createSchema = z
  .object({
    email: emailAddress,
    name: z.string().trim().min(1).max(200).optional(),
    password: password.optional(),
    is_admin: z.boolean().default(false),
    roles: roles.default([]),
    /** Accounts created by an operator are trusted to own their address; set false for unchecked input. */
    email_verified: z.boolean().default(true),
  })
  .strict();

const updateSchema = z
  .object({ name: z.string().trim().min(1).max(200).nullable(), password, is_admin: z.boolean(), roles, email_verified: z.boolean() })
  .partial()
  .strict();

/**
 * What user operations call: the users, their sessions and grants (ended when the password is reset or the user is
 * disabled), and their passkeys (listed and removed by an admin, removed by a reset).
 */
export type UserStore = UserRecords & Pick<SessionRecords, 'deleteUserSessions'> & Pick<UserGrantRecords, 'revokeGrantsOf'> & Pick<PasskeyRecords, 'listPasskeys' | 'deletePasskey'>;

export interface PasskeyView {
  credential_id: string;
  name: string;
  transports: string[];
  created_at: number;
  last_used_at: number | null;
}

const passkeyView = (p: PasskeyRecord): PasskeyView => ({ credential_id: p.credentialId, name: p.name, transports: p.transports, created_at: p.createdAt, last_used_at: p.lastUsedAt });

async function existingUser(deps: ManagementDeps<UserStore>, idOrEmail: string): Promise<UserRecord> {
  const email = normalizeEmail(idOrEmail);
  const user = (await deps.store.getUser(idOrEmail)) ?? (email.ok ? await deps.store.getUserByEmail(email.email) : null);
  if (!user) throw new ManagementError('not-found', `no user ${idOrEmail}`);
  return user;
}

export async function createUser(input: unknown, deps: ManagementDeps<UserStore>): Promise<UserView> {
  const parsed = parseInput(createSchema, input);
  const record: UserRecord = {
    id: newId('usr'),
    email: parsed.email,
    emailVerified: parsed.email_verified,
    name: parsed.name ?? null,
    passwordHash: parsed.password ? await hashPassword(parsed.password) : null,
    isAdmin: parsed.is_admin,
    roles: parsed.roles,
    status: 'active',
    tokensValidAfter: 0,
    createdAt: deps.now,
    updatedAt: deps.now,
  };
  try {
    await deps.store.createUser(record);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ManagementError('conflict', `a user with email ${parsed.email} exists`);
    throw err;
  }
  await deps.audit.record({ event: 'user.created', actor: deps.actor, subject: record.id, detail: { email: record.email, is_admin: record.isAdmin, has_password: record.passwordHash !== null } });
  return userView(record);
}

export async function listUsers(deps: Pick<ManagementDeps<UserStore>, 'store'>): Promise<UserView[]> {
  return (await deps.store.listUsers()).map(userView);
}

export async function getUser(idOrEmail: string, deps: ManagementDeps<UserStore>): Promise<UserView> {
  return userView(await existingUser(deps, idOrEmail));
}

/**
 * Updates a user. A new password is a reset: it ends the user's sessions and, unless `users.passwordResetRevokesGrants`
 * is off, every grant they gave and every token derived from one (`tokensValidAfter` moves past now, SR-01); unless
 * `users.passwordResetRevokesPasskeys` is off, it removes their passkeys too (SR-15): a reset is made because
 * someone else may have had the account, and they may have added one.
 */
export async function updateUser(idOrEmail: string, input: unknown, deps: ManagementDeps<UserStore>): Promise<UserView> {
  const parsed = parseInput(updateSchema, input);
  const current = await existingUser(deps, idOrEmail);
  const reset = parsed.password !== undefined;
  const revokesGrants = reset && deps.config.users.passwordResetRevokesGrants;
  const updated = (await deps.store.updateUser(current.id, {
    name: parsed.name,
    isAdmin: parsed.is_admin,
    roles: parsed.roles,
    emailVerified: parsed.email_verified,
    passwordHash: parsed.password === undefined ? undefined : await hashPassword(parsed.password),
    updatedAt: deps.now,
    ...(revokesGrants ? { tokensValidAfter: deps.now + 1 } : {}),
  }))!;
  if (reset) await deps.store.deleteUserSessions(current.id);
  const passkeysRemoved: string[] = [];
  if (reset && deps.config.users.passwordResetRevokesPasskeys) {
    for (const passkey of await deps.store.listPasskeys(current.id)) {
      if (await deps.store.deletePasskey(current.id, passkey.credentialId)) passkeysRemoved.push(passkey.credentialId);
    }
  }
  const grantsRevoked = revokesGrants ? await deps.store.revokeGrantsOf({ userId: current.id }, deps.now) : [];
  await deps.audit.record({
    event: 'user.updated',
    actor: deps.actor,
    subject: current.id,
    detail: { fields: Object.keys(parsed), ...(reset ? { sessions_ended: true, grants_revoked: grantsRevoked, passkeys_removed: passkeysRemoved } : {}) },
  });
  return userView(updated);
}

/**
 * Disabling a user ends their sessions and grants and makes every token issued for them inactive at once (the
 * lifecycle module checks the user behind a token's grant); `tokensValidAfter` keeps the old ones dead after
 * re-enabling (SR-01).
 */
export async function setUserStatus(idOrEmail: string, status: UserRecord['status'], deps: ManagementDeps<UserStore>): Promise<UserView> {
  const current = await existingUser(deps, idOrEmail);
  const updated = (await deps.store.updateUser(current.id, {
    status,
    updatedAt: deps.now,
    ...(status === 'disabled' ? { tokensValidAfter: deps.now + 1 } : {}),
  }))!;
  let grantsRevoked: string[] = [];
  if (status === 'disabled') {
    await deps.store.deleteUserSessions(current.id);
    grantsRevoked = await deps.store.revokeGrantsOf({ userId: current.id }, deps.now);
  }
  if (current.status !== status || grantsRevoked.length > 0) {
    await deps.audit.record({
      event: status === 'disabled' ? 'user.disabled' : 'user.enabled',
      actor: deps.actor,
      subject: current.id,
      ...(grantsRevoked.length > 0 ? { detail: { grants_revoked: grantsRevoked } } : {}),
    });
  }
  return userView(updated);
}

export async function deleteUser(idOrEmail: string, deps: ManagementDeps<UserStore>): Promise<void> {
  const current = await existingUser(deps, idOrEmail);
  // Grants, sessions, passkeys, identities and consents go with the row (ON DELETE CASCADE); tokens whose grant is
  // gone are inactive.
  await deps.store.deleteUser(current.id, deps.now);
  await deps.audit.record({ event: 'user.deleted', actor: deps.actor, subject: current.id });
}

export async function listUserPasskeys(idOrEmail: string, deps: ManagementDeps<UserStore>): Promise<PasskeyView[]> {
  const user = await existingUser(deps, idOrEmail);
  return (await deps.store.listPasskeys(user.id)).map(passkeyView);
}

/** Removes one of a user's passkeys (SR-15): it can no longer sign in. Audited as `passkey.removed`. */
export async function removeUserPasskey(idOrEmail: string, credentialId: string, deps: ManagementDeps<UserStore>): Promise<void> {
  const user = await existingUser(deps, idOrEmail);
  if (!(await deps.store.deletePasskey(user.id, credentialId))) throw new ManagementError('not-found', `${user.email ?? user.id} has no passkey ${credentialId}`);
  await deps.audit.record({ event: 'passkey.removed', actor: deps.actor, subject: user.id, detail: { credential_id: credentialId, by: 'admin' } });
}
