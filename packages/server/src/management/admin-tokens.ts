import { z } from 'zod';
import type { AdminTokenRecords } from '../store/store.ts';
import { ADMIN_TOKEN_PREFIX, hashSecret, newPrefixedCredential } from '../tokens/secret.ts';
import { parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/** Admin API tokens: created from the CLI (the bootstrap credential), shown once, stored as a SHA-256. */

const createSchema = z.object({ name: z.string().trim().min(1).max(200) }).strict();

export async function createAdminToken(input: unknown, deps: ManagementDeps<AdminTokenRecords>): Promise<{ id: string; name: string; token: string }> {
  const { name } = parseInput(createSchema, input);
  const credential = newPrefixedCredential(ADMIN_TOKEN_PREFIX);
  await deps.store.createAdminToken({ id: credential.id, name, secretHash: hashSecret(credential.secret), createdAt: deps.now, revokedAt: null });
  await deps.audit.record({ event: 'admin_token.created', actor: deps.actor, subject: `admin:${credential.id}`, detail: { name } });
  return { id: credential.id, name, token: credential.credential };
}

export async function listAdminTokens(deps: Pick<ManagementDeps<AdminTokenRecords>, 'store'>) {
  return (await deps.store.listAdminTokens()).map((t) => ({ id: t.id, name: t.name, created_at: t.createdAt, revoked_at: t.revokedAt }));
}

export async function revokeAdminToken(id: string, deps: ManagementDeps<AdminTokenRecords>): Promise<void> {
  if (!(await deps.store.revokeAdminToken(id, deps.now))) throw new ManagementError('not-found', `no active admin token ${id}`);
  await deps.audit.record({ event: 'admin_token.revoked', actor: deps.actor, subject: `admin:${id}` });
}
