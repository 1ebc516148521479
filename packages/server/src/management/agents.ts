import { type AdminAgent, GRANT_TYPE_CIBA, GRANT_TYPE_DEVICE_CODE, GRANT_TYPE_JWT_BEARER, GRANT_TYPE_TOKEN_EXCHANGE } from '@mandate/protocol';
import { z } from 'zod';
import { usableClientJwks } from '../oauth/client-jwks.ts';
import type { ClientRecord, ClientRecords } from '../store/store.ts';
import { generateSecret, hashSecret, newId } from '../tokens/secret.ts';
import { emailAddress, jwksInput, parseInput, resourceUri, scopeToken } from './input.ts';
import { ManagementError } from './management-error.ts';
import { checkAccessTokenTtl, checkAudiencesRegistered, deleteClientRecord, existingClientOfKind, insertClient, rotateClientRecordSecret, setClientRecordStatus, type ClientStore } from './client-lifecycle.ts';
import type { ManagementDeps } from './management-deps.ts';
import { backchannelDelivery, backchannelDeliveryFields } from './backchannel-delivery.ts';

/** Agent management, shared by `mandate agent …` and `/admin/v1/agents`. Every change is audited. */


/** The public view of an agent (everything but secret hashes), as the CLI and the admin API show it: the wire shape, written once in `@mandate/protocol`. */
export type AgentView = AdminAgent;

function agentView(record: ClientRecord): AgentView {
  return {
    client_id: record.clientId,
    name: record.name,
    description: record.description,
    owner: record.owner,
    status: record.status,
    scopes: record.allowedScopes,
    audiences: record.allowedAudiences,
    txn_tokens: record.txnTokensAllowed === true,
    jwt_bearer: record.grantTypes.includes(GRANT_TYPE_JWT_BEARER),
    access_token_ttl_seconds: record.accessTokenTtlSeconds,
    dpop_bound_access_tokens: record.dpopBoundAccessTokens === true,
    backchannel_token_delivery_mode: record.backchannelTokenDeliveryMode ?? 'poll',
    backchannel_client_notification_endpoint: record.backchannelClientNotificationEndpoint ?? null,
    token_endpoint_auth_method: record.tokenEndpointAuthMethod,
    // Public members of usable keys only, even for a JWK Set stored before keys were checked (SR-12).
    jwks: record.jwks && usableClientJwks(record.jwks),
    previous_secret_expires_at: record.previousSecretExpiresAt,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

const agentFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable(),
  owner: emailAddress.nullable(),
  scopes: z.array(scopeToken).max(200),
  audiences: z.array(resourceUri).max(50),
  /** May request Transaction Tokens (issue 11 item 5): a workload of the trust domain. */
  txn_tokens: z.boolean(),
  /** May redeem trusted issuers' assertions (RFC 7523 `jwt-bearer`; docs/cross-domain.md). */
  jwt_bearer: z.boolean(),
  access_token_ttl_seconds: z.number().int().min(60).nullable(),
  dpop_bound_access_tokens: z.boolean(),
  ...backchannelDeliveryFields,
};

const createSchema = z
  .object({
    ...agentFields,
    description: agentFields.description.optional(),
    owner: agentFields.owner.optional(),
    scopes: agentFields.scopes.default([]),
    audiences: agentFields.audiences.default([]),
    txn_tokens: agentFields.txn_tokens.default(false),
    jwt_bearer: agentFields.jwt_bearer.default(false),
    access_token_ttl_seconds: agentFields.access_token_ttl_seconds.optional(),
    dpop_bound_access_tokens: agentFields.dpop_bound_access_tokens.default(false),
    backchannel_token_delivery_mode: agentFields.backchannel_token_delivery_mode.optional(),
    backchannel_client_notification_endpoint: agentFields.backchannel_client_notification_endpoint.optional(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).default('client_secret_basic'),
    jwks: jwksInput.optional(),
  })
  .strict()
  .refine((a) => (a.token_endpoint_auth_method === 'private_key_jwt') === (a.jwks !== undefined), {
    message: 'jwks is required with private_key_jwt and not allowed otherwise',
    path: ['jwks'],
  });

const updateSchema = z.object({ ...agentFields, jwks: jwksInput }).partial().strict();


const AGENT_GRANT_TYPES = ['client_credentials', GRANT_TYPE_TOKEN_EXCHANGE, GRANT_TYPE_CIBA, GRANT_TYPE_DEVICE_CODE];

/** The grant types with `jwt-bearer` added or taken away. */
const withJwtBearer = (grantTypes: readonly string[], allowed: boolean): string[] => [...grantTypes.filter((g) => g !== GRANT_TYPE_JWT_BEARER), ...(allowed ? [GRANT_TYPE_JWT_BEARER] : [])];

const existingAgent = (store: ClientRecords, clientId: string) => existingClientOfKind({ store }, 'agent', clientId);

/** Creates an agent; the client secret is returned once and stored only as its SHA-256. */
export async function createAgent(input: unknown, deps: ManagementDeps<ClientStore>): Promise<{ agent: AgentView; clientSecret: string | null }> {
  const parsed = parseInput(createSchema, input);
  checkAccessTokenTtl(parsed.access_token_ttl_seconds, deps);
  await checkAudiencesRegistered(parsed.audiences, deps);
  const delivery = backchannelDelivery(parsed, null, deps);
  const usesSecret = parsed.token_endpoint_auth_method !== 'private_key_jwt';
  const clientSecret = usesSecret ? generateSecret() : null;
  const record: ClientRecord = {
    clientId: newId('agt'),
    kind: 'agent',
    name: parsed.name,
    description: parsed.description ?? null,
    owner: parsed.owner ?? null,
    status: 'active',
    allowedScopes: [...new Set(parsed.scopes)],
    // An agent asks for what it needs; without `scope` it gets what its resource offers (policy/token-targets.ts).
    defaultScopes: [],
    allowedAudiences: [...new Set(parsed.audiences)],
    txnTokensAllowed: parsed.txn_tokens,
    accessTokenTtlSeconds: parsed.access_token_ttl_seconds ?? null,
    dpopBoundAccessTokens: parsed.dpop_bound_access_tokens,
    ...delivery,
    tokenEndpointAuthMethod: parsed.token_endpoint_auth_method,
    secretHash: clientSecret ? hashSecret(clientSecret) : null,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    jwks: parsed.jwks ?? null,
    redirectUris: [],
    // Token exchange lets an agent take part in delegation chains (RFC 8693); it confers nothing by itself, since
    // every exchange must present a subject token that names the agent (aud, act or may_act) or was issued to it.
    // CIBA (issue 12 item 3) asks a person out of band; every request waits for an approver's decision. The device
    // grant (RFC 8628) lets a headless agent ask a person to sign in elsewhere and approve (issue 13 item 7).
    // RFC 7523 jwt-bearer only when asked for: it lets the agent act as whoever a trusted issuer's assertion names.
    grantTypes: withJwtBearer(AGENT_GRANT_TYPES, parsed.jwt_bearer),
    tokensValidAfter: 0,
    createdAt: deps.now,
    updatedAt: deps.now,
  };
  await insertClient(
    record,
    { name: record.name, owner: record.owner, scopes: record.allowedScopes, audiences: record.allowedAudiences, auth_method: record.tokenEndpointAuthMethod },
    deps,
  );
  return { agent: agentView(record), clientSecret };
}

export async function listAgents(store: ClientRecords): Promise<AgentView[]> {
  return (await store.listClients({ kind: 'agent' })).map(agentView);
}

export async function getAgent(store: ClientRecords, clientId: string): Promise<AgentView> {
  return agentView(await existingAgent(store, clientId));
}

export async function updateAgent(clientId: string, input: unknown, deps: ManagementDeps<ClientStore>): Promise<AgentView> {
  const parsed = parseInput(updateSchema, input);
  checkAccessTokenTtl(parsed.access_token_ttl_seconds, deps);
  await checkAudiencesRegistered(parsed.audiences, deps);
  const current = await existingAgent(deps.store, clientId);
  if (parsed.jwks !== undefined && current.tokenEndpointAuthMethod !== 'private_key_jwt') {
    throw new ManagementError('invalid-request', 'jwks: this agent authenticates with a client secret, not private_key_jwt', [
      { path: 'jwks', message: 'this agent authenticates with a client secret, not private_key_jwt' },
    ]);
  }
  const updated = await deps.store.updateClient(clientId, {
    jwks: parsed.jwks,
    name: parsed.name,
    description: parsed.description,
    owner: parsed.owner,
    allowedScopes: parsed.scopes && [...new Set(parsed.scopes)],
    allowedAudiences: parsed.audiences && [...new Set(parsed.audiences)],
    txnTokensAllowed: parsed.txn_tokens,
    grantTypes: parsed.jwt_bearer === undefined ? undefined : withJwtBearer(current.grantTypes, parsed.jwt_bearer),
    accessTokenTtlSeconds: parsed.access_token_ttl_seconds,
    dpopBoundAccessTokens: parsed.dpop_bound_access_tokens,
    ...(parsed.backchannel_token_delivery_mode !== undefined || parsed.backchannel_client_notification_endpoint !== undefined ? backchannelDelivery(parsed, current, deps) : {}),
    updatedAt: deps.now,
  });
  if (!updated) throw new ManagementError('not-found', `no agent ${clientId}`);
  await deps.audit.record({ event: 'agent.updated', actor: deps.actor, subject: clientId, clientId, detail: { fields: Object.keys(parsed) } });
  return agentView(updated);
}

export async function setAgentStatus(clientId: string, status: 'active' | 'disabled', deps: ManagementDeps<ClientStore>): Promise<AgentView> {
  return agentView(await setClientRecordStatus('agent', clientId, status, deps));
}

/** A new secret, shown once; the old one keeps its grace period (client-lifecycle.ts). */
export async function rotateAgentSecret(clientId: string, deps: ManagementDeps<ClientStore>, options: { graceSeconds?: unknown } = {}): Promise<{ agent: AgentView; clientSecret: string }> {
  const { record, clientSecret } = await rotateClientRecordSecret('agent', clientId, deps, options);
  return { agent: agentView(record), clientSecret };
}

export async function deleteAgent(clientId: string, deps: ManagementDeps<ClientStore>): Promise<void> {
  await deleteClientRecord('agent', clientId, deps);
}
