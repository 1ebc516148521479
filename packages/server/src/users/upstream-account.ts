import type { UpstreamProviderConfig } from '../config.ts';
import type { UserRecord, UserRecords } from '../store/store.ts';
import { StoreConflictError } from '../store/store.ts';
import { newId } from '../tokens/secret.ts';
import type { UpstreamIdentity } from './upstream-oidc.ts';

export type UpstreamAccountResult =
  | { ok: true; user: UserRecord; how: 'linked' | 'linked_by_email' | 'provisioned' }
  | { ok: false; reason: string };

/**
 * Finds the local account for an upstream identity:
 * 1. an identity already linked by (issuer, sub): that account (never by email: emails change hands);
 * 2. with `linkByVerifiedEmail` on and the provider saying the email is verified, the account with that email
 *    (linking it for next time), when this server knows that account owns the address too (created by an
 *    operator, or verified since): an account someone signed up for with another person's address (self-signup
 *    leaves it unverified) must not receive that person's identity. Off by default: it lets the provider vouch
 *    for every local account;
 * 3. with `provision` on, a new account; it gets the email only when the provider verified it, and is refused when
 *    that email already belongs to another account (the user should sign in to that account instead).
 */
export async function resolveUpstreamAccount(
  provider: Readonly<UpstreamProviderConfig>,
  identity: UpstreamIdentity,
  deps: { store: Pick<UserRecords, 'getIdentity' | 'getUser' | 'getUserByEmail' | 'linkIdentity' | 'createUserWithIdentity'>; now: number },
): Promise<UpstreamAccountResult> {
  const link = (userId: string) => ({ issuer: identity.issuer, subject: identity.subject, userId, providerId: provider.id, email: identity.email, createdAt: deps.now });

  const linked = await deps.store.getIdentity(identity.issuer, identity.subject);
  if (linked) {
    const user = await deps.store.getUser(linked.userId);
    return user && user.status === 'active' ? { ok: true, user, how: 'linked' } : { ok: false, reason: 'the linked account is disabled' };
  }
  const verifiedEmail = identity.emailVerified ? identity.email : null;
  const owner = verifiedEmail ? await deps.store.getUserByEmail(verifiedEmail) : null;
  if (owner && provider.linkByVerifiedEmail) {
    if (owner.status !== 'active') return { ok: false, reason: 'the account is disabled' };
    if (!owner.emailVerified) return { ok: false, reason: 'an account with this email exists, but its address was never verified here: sign in to it with its own method' };
    await deps.store.linkIdentity(link(owner.id));
    return { ok: true, user: owner, how: 'linked_by_email' };
  }
  if (owner) return { ok: false, reason: 'an account with this email exists; sign in to it with its own method' };
  if (!provider.provision) return { ok: false, reason: 'no account is linked to this identity' };

  const user: UserRecord = {
    id: newId('usr'),
    email: verifiedEmail,
    emailVerified: verifiedEmail !== null,
    name: identity.name,
    passwordHash: null,
    isAdmin: false,
    roles: [],
    status: 'active',
    tokensValidAfter: 0,
    createdAt: deps.now,
    updatedAt: deps.now,
  };
  try {
    await deps.store.createUserWithIdentity(user, link(user.id));
  } catch (err) {
    if (err instanceof StoreConflictError) return { ok: false, reason: 'the account was created concurrently; try again' };
    throw err;
  }
  return { ok: true, user, how: 'provisioned' };
}
