import type { AdminResource } from '@mandate/protocol';
import { z } from 'zod';
import type { ResourceRecord, ResourceRecords } from '../store/store.ts';
import { StoreConflictError } from '../store/store.ts';
import { hashSecret, newId, newPrefixedCredential, RESOURCE_KEY_PREFIX } from '../tokens/secret.ts';
import { graceSeconds, parseInput, resourceUri, scopeToken } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/** Resource (API / MCP server) management, shared by `mandate resource …` and `/admin/v1/resources`. */

/** A resource as the CLI and the admin API show it: the admin API's wire shape, written once in `@mandate/protocol`. */
export type ResourceView = AdminResource;

function resourceView(record: ResourceRecord): ResourceView {
  return { id: record.id, resource: record.uri, name: record.name, scopes: record.scopes, default_scopes: record.defaultScopes, downstream_resources: record.downstreamResources, txn_tokens: record.txnTokensAllowed === true, created_at: record.createdAt, updated_at: record.updatedAt };
}

/** A scope as a bare name (risk low, no description) or as an object; errors name the exact field. */
const scopeInput = z.preprocess(
  (value) => (typeof value === 'string' ? { name: value } : value),
  z
    .object({ name: scopeToken, description: z.string().max(500).nullable().default(null), risk: z.enum(['low', 'medium', 'high', 'critical']).default('low') })
    .strict(),
);

const createSchema = z
  .object({
    resource: resourceUri,
    name: z.string().trim().min(1).max(200).optional(),
    scopes: z.array(scopeInput).max(200).default([]),
    default_scopes: z.array(scopeToken).max(200).default([]),
    downstream_resources: z.array(resourceUri).max(100).default([]),
    txn_tokens: z.boolean().default(false),
  })
  .strict();

const updateSchema = z
  .object({ name: z.string().trim().min(1).max(200), scopes: z.array(scopeInput).max(200), default_scopes: z.array(scopeToken).max(200), downstream_resources: z.array(resourceUri).max(100), txn_tokens: z.boolean() })
  .partial()
  .strict();

/** Default scopes are names the resource defines. */
function checkDefaultScopes(defaults: readonly string[], scopes: ResourceRecord['scopes']): string[] {
  const stray = defaults.filter((name) => !scopes.some((s) => s.name === name));
  if (stray.length > 0) throw new ManagementError('invalid-request', `default_scopes: ${stray.join(' ')} not among the resource's scopes`);
  return [...new Set(defaults)];
}

/** Downstream resources are other registered resources: a gateway's allowance names where it may call on. */
async function checkDownstream(uris: readonly string[], self: string, deps: { store: Pick<ResourceRecords, 'getResourceByUri'> }): Promise<string[]> {
  const unique = [...new Set(uris)];
  if (unique.includes(self)) throw new ManagementError('invalid-request', 'downstream_resources: a resource is not its own downstream');
  for (const uri of unique) {
    if (!(await deps.store.getResourceByUri(uri))) throw new ManagementError('invalid-request', `downstream_resources: ${uri} is not a registered resource`);
  }
  return unique;
}

function uniqueScopes(scopes: ResourceRecord['scopes']): ResourceRecord['scopes'] {
  const byName = new Map(scopes.map((s) => [s.name, s]));
  return [...byName.values()];
}

export async function existingResource(deps: { store: Pick<ResourceRecords, 'listResources'> }, idOrUri: string): Promise<ResourceRecord> {
  const all = await deps.store.listResources();
  const found = all.find((r) => r.id === idOrUri || r.uri === idOrUri);
  if (!found) throw new ManagementError('not-found', `no resource ${idOrUri}`);
  return found;
}

/** Registers a resource and issues its API key (for introspection), shown once and stored as a SHA-256. */
export async function createResource(input: unknown, deps: ManagementDeps<ResourceRecords>): Promise<{ resource: ResourceView; apiKey: string }> {
  const parsed = parseInput(createSchema, input);
  const key = newPrefixedCredential(RESOURCE_KEY_PREFIX);
  const record: ResourceRecord = {
    id: newId('res'),
    uri: parsed.resource,
    name: parsed.name ?? parsed.resource,
    scopes: uniqueScopes(parsed.scopes),
    defaultScopes: checkDefaultScopes(parsed.default_scopes, parsed.scopes),
    downstreamResources: await checkDownstream(parsed.downstream_resources, parsed.resource, deps),
    txnTokensAllowed: parsed.txn_tokens,
    apiKeyId: key.id,
    apiKeyHash: hashSecret(key.secret),
    previousApiKeyId: null,
    previousApiKeyHash: null,
    previousApiKeyExpiresAt: null,
    apiKeySince: deps.now,
    previousApiKeySince: null,
    createdAt: deps.now,
    updatedAt: deps.now,
  };
  try {
    await deps.store.createResource(record);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ManagementError('conflict', `resource ${record.uri} is already registered`);
    throw err;
  }
  await deps.audit.record({ event: 'resource.created', actor: deps.actor, subject: record.uri, detail: { id: record.id, scopes: record.scopes.map((s) => s.name), default_scopes: record.defaultScopes, downstream_resources: record.downstreamResources, txn_tokens: record.txnTokensAllowed } });
  return { resource: resourceView(record), apiKey: key.credential };
}

export async function listResources(deps: Pick<ManagementDeps<ResourceRecords>, 'store'>): Promise<ResourceView[]> {
  return (await deps.store.listResources()).map(resourceView);
}

export async function getResource(idOrUri: string, deps: ManagementDeps<ResourceRecords>): Promise<ResourceView> {
  return resourceView(await existingResource(deps, idOrUri));
}

/** Allows or denies the resource server's Txn-Token requests (issue 11 item 5), and reads it back. */
async function setTxnTokensAllowed(resource: ResourceRecord, allowed: boolean, deps: ManagementDeps<ResourceRecords>): Promise<ResourceRecord> {
  if (!(await deps.store.setResourceTxnTokensAllowed(resource.id, allowed, deps.now))) throw new ManagementError('not-found', `no resource ${resource.uri}`);
  return (await deps.store.getResourceByUri(resource.uri)) ?? resource;
}

export async function updateResource(idOrUri: string, input: unknown, deps: ManagementDeps<ResourceRecords>): Promise<ResourceView> {
  const parsed = parseInput(updateSchema, input);
  const current = await existingResource(deps, idOrUri);
  // A scope's policy is edited on its own (management/scope-policies.ts, versioned); a scope kept by name keeps it.
  const policies = new Map(current.scopes.flatMap((s) => (s.policy ? [[s.name, s.policy] as const] : [])));
  const scopes = parsed.scopes && uniqueScopes(parsed.scopes).map((s) => (policies.has(s.name) ? { ...s, policy: policies.get(s.name)! } : s));
  // Scopes a new list drops leave the defaults too, unless the defaults are set in the same request.
  const defaults = parsed.default_scopes ?? (scopes && current.defaultScopes.filter((name) => scopes.some((s) => s.name === name)));
  const updated = (await deps.store.updateResource(current.id, {
    name: parsed.name,
    scopes,
    defaultScopes: defaults && checkDefaultScopes(defaults, scopes ?? current.scopes),
    downstreamResources: parsed.downstream_resources && (await checkDownstream(parsed.downstream_resources, current.uri, deps)),
    updatedAt: deps.now,
  }))!;
  const result = parsed.txn_tokens === undefined ? updated : await setTxnTokensAllowed(updated, parsed.txn_tokens, deps);
  await deps.audit.record({ event: 'resource.updated', actor: deps.actor, subject: current.uri, detail: { fields: Object.keys(parsed) } });
  return resourceView(result);
}

/**
 * Replaces the resource's API key. The old one keeps authenticating for the grace period (`graceSeconds`, else
 * `resources.apiKeyRotationGraceSeconds`), so the resource server can be given the new key without a window of
 * refused introspection (SR-14); 0 ends it at once. A key older than the one just replaced is never honoured.
 *
 * What the resource server obtained with a key (downstream exchange, issue 11) lives as long as that key is
 * honoured and no longer: with a grace period, until it ends (the lifecycle refuses those tokens from then on,
 * and the server appends their cutoff event when it forgets the old key); without one, the rotation is a
 * revocation and they die now, with their cutoff event. Tokens obtained in the very second of the rotation count
 * as the old key's (a token's `iat` has whole seconds): a rotation never leaves an old key's token alive.
 */
export async function rotateResourceKey(
  idOrUri: string,
  deps: ManagementDeps<ResourceRecords>,
  options: { graceSeconds?: unknown } = {},
): Promise<{ resource: ResourceView; apiKey: string; previousKeyValidUntil: number | null }> {
  const grace = graceSeconds(options.graceSeconds, deps.config.resources.apiKeyRotationGraceSeconds);
  const current = await existingResource(deps, idOrUri);
  const key = newPrefixedCredential(RESOURCE_KEY_PREFIX);
  const graceEnds = grace > 0 ? deps.now + grace : null;
  const updated = (await deps.store.updateResource(current.id, {
    apiKeyId: key.id,
    apiKeyHash: hashSecret(key.secret),
    previousApiKeyId: graceEnds === null ? null : current.apiKeyId,
    previousApiKeyHash: graceEnds === null ? null : current.apiKeyHash,
    previousApiKeyExpiresAt: graceEnds,
    apiKeySince: deps.now + 1,
    previousApiKeySince: graceEnds === null ? null : current.apiKeySince,
    updatedAt: deps.now,
  }))!;
  await deps.audit.record({ event: 'resource.key_rotated', actor: deps.actor, subject: current.uri, detail: { previous_valid_until: graceEnds, grace_seconds: grace } });
  return { resource: resourceView(updated), apiKey: key.credential, previousKeyValidUntil: graceEnds };
}

/**
 * Ends the grace periods that are over at `now`: each resource forgets its previous key, and the store appends the
 * cutoff event for what the resource server obtained with it (the lifecycle refuses those tokens already from the
 * grace period's end; the event tells resources that verify JWTs locally). Run by every instance on the revocation
 * events' poll interval; an instance that finds another did it first does nothing. Returns the URIs it ended.
 */
export async function endResourceKeyGraces(store: Pick<ResourceRecords, 'listEndedResourceKeyGraces' | 'endResourceKeyGrace'>, now: number): Promise<string[]> {
  const ended: string[] = [];
  for (const resource of await store.listEndedResourceKeyGraces(now)) if (await store.endResourceKeyGrace(resource.id, now)) ended.push(resource.uri);
  return ended;
}

export async function deleteResource(idOrUri: string, deps: ManagementDeps<ResourceRecords>): Promise<void> {
  const current = await existingResource(deps, idOrUri);
  await deps.store.deleteResource(current.id, deps.now);
  await deps.audit.record({ event: 'resource.deleted', actor: deps.actor, subject: current.uri });
}
