import type { ClientKind, ClientRecord, ClientRecords, ClientRegistrationRecords, ResourceRecords, UserGrantRecords } from '../store/store.ts';
import { StoreConflictError } from '../store/store.ts';
import { generateSecret, hashSecret } from '../tokens/secret.ts';
import { graceSeconds } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/**
 * What agents (`kind: 'agent'`) and OAuth applications (`kind: 'app'`) share: both are rows of `clients`, created,
 * disabled, enabled and deleted the same way, each change audited as `agent.*` or `client.*`.
 */

/** What agent and client operations call: the clients, the resources their audiences must name, and their grants (ended by a disable). */
export type ClientStore = ClientRecords &
  Pick<ResourceRecords, 'getResourceByUri'> &
  Pick<UserGrantRecords, 'revokeGrantsOf'> &
  Pick<ClientRegistrationRecords, 'getClientRegistration'>;

const noun = (kind: ClientKind) => (kind === 'agent' ? 'agent' : 'client');

/** The record, if it exists and is of this kind; otherwise not-found (an agent id is no client id, and back). */
export async function existingClientOfKind(deps: { store: Pick<ClientRecords, 'getClient'> }, kind: ClientKind, clientId: string): Promise<ClientRecord> {
  const record = await deps.store.getClient(clientId);
  if (!record || record.kind !== kind) throw new ManagementError('not-found', `no ${noun(kind)} ${clientId}`);
  return record;
}

export function checkAccessTokenTtl(ttl: number | null | undefined, deps: ManagementDeps<ClientStore>): void {
  if (ttl != null && ttl > deps.config.tokens.maxAccessTokenTtlSeconds) {
    throw new ManagementError('invalid-request', `access_token_ttl_seconds must be at most ${deps.config.tokens.maxAccessTokenTtlSeconds}`);
  }
}

/**
 * Every audience must be a registered resource: a token for an unknown one would only fail later, at the token
 * endpoint, with `invalid_target` (SR-14). Refused here with the resource named.
 */
export async function checkAudiencesRegistered(audiences: readonly string[] | undefined, deps: Pick<ManagementDeps<ClientStore>, 'store'>): Promise<void> {
  for (const uri of audiences ?? []) {
    if (await deps.store.getResourceByUri(uri)) continue;
    const message = `${uri} is not a registered resource; register it first (mandate resource create --uri ${uri} --scope …)`;
    throw new ManagementError('invalid-request', `audiences: ${message}`, [{ path: 'audiences', message }]);
  }
}

export async function insertClient(record: ClientRecord, detail: Record<string, unknown>, deps: ManagementDeps<ClientStore>): Promise<void> {
  try {
    await deps.store.createClient(record);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ManagementError('conflict', `a ${noun(record.kind)} with this id exists; retry`);
    throw err;
  }
  await deps.audit.record({ event: `${noun(record.kind)}.created`, actor: deps.actor, subject: record.clientId, clientId: record.clientId, detail });
}

/**
 * Disabling makes every token the client holds (or acts in, for an agent) inactive at once and ends every user
 * grant it takes part in: `tokensValidAfter` moves past now, which the lifecycle module compares with each token's
 * `iat` and each grant's creation, and the grants are revoked. Enabling again revives none of them (SR-01).
 */
export async function setClientRecordStatus(kind: ClientKind, clientId: string, status: ClientRecord['status'], deps: ManagementDeps<ClientStore>): Promise<ClientRecord> {
  const current = await existingClientOfKind(deps, kind, clientId);
  const patch = status === 'disabled' ? { status, tokensValidAfter: deps.now + 1, updatedAt: deps.now } : { status, updatedAt: deps.now };
  const updated = (await deps.store.updateClient(clientId, patch))!;
  const grantsRevoked = status === 'disabled' ? await deps.store.revokeGrantsOf({ clientId }, deps.now) : [];
  if (current.status !== status || grantsRevoked.length > 0) {
    const event = `${noun(kind)}.${status === 'disabled' ? 'disabled' : 'enabled'}`;
    await deps.audit.record({ event, actor: deps.actor, subject: clientId, clientId, ...(grantsRevoked.length > 0 ? { detail: { grants_revoked: grantsRevoked } } : {}) });
  }
  return updated;
}

export async function deleteClientRecord(kind: ClientKind, clientId: string, deps: ManagementDeps<ClientStore>): Promise<void> {
  await existingClientOfKind(deps, kind, clientId);
  await deps.store.deleteClient(clientId, deps.now);
  await deps.audit.record({ event: `${noun(kind)}.deleted`, actor: deps.actor, subject: clientId, clientId });
}

/**
 * Issues a new client secret, returned once and stored only as its SHA-256; the previous one stays valid for the
 * grace period (`graceSeconds`, else the configured `agents.secretRotationGraceSeconds`) so deployments can roll
 * over; 0 ends it at once. A public client (`none`) or a `private_key_jwt` one has no secret to rotate.
 */
export async function rotateClientRecordSecret(
  kind: ClientKind,
  clientId: string,
  deps: ManagementDeps<ClientStore>,
  options: { graceSeconds?: unknown } = {},
): Promise<{ record: ClientRecord; clientSecret: string }> {
  const grace = graceSeconds(options.graceSeconds, deps.config.agents.secretRotationGraceSeconds);
  const current = await existingClientOfKind(deps, kind, clientId);
  if (current.tokenEndpointAuthMethod === 'private_key_jwt' || current.tokenEndpointAuthMethod === 'none') {
    throw new ManagementError('invalid-request', `this ${noun(kind)} authenticates with ${current.tokenEndpointAuthMethod} and has no secret`);
  }
  const clientSecret = generateSecret();
  const graceEnds = grace > 0 ? deps.now + grace : null;
  const record = (await deps.store.updateClient(clientId, {
    secretHash: hashSecret(clientSecret),
    previousSecretHash: graceEnds === null ? null : current.secretHash,
    previousSecretExpiresAt: graceEnds,
    updatedAt: deps.now,
  }))!;
  await deps.audit.record({ event: `${noun(kind)}.secret_rotated`, actor: deps.actor, subject: clientId, clientId, detail: { previous_valid_until: graceEnds, grace_seconds: grace } });
  return { record, clientSecret };
}
