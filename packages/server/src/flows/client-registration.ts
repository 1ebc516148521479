import type { AuditLog } from '../audit/audit-log.ts';
import type { MandateConfig } from '../config.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import type { ClientRegistrationRecords } from '../store/client-registration.ts';
import type { ClientRecord, ClientRecords, ResourceRecords, UserGrantRecords } from '../store/store.ts';
import { generateSecret, hashSecret, newId, secretMatchesHash } from '../tokens/secret.ts';
import { fetchClientJwks, type JwksFetchSettings } from './client-jwks-fetch.ts';
import { selfRegisteredLookAlike } from './look-alike-clients.ts';
import { clientRecordFromMetadata, effectiveMetadata, invalidClientMetadata, parseClientMetadata } from './client-metadata.ts';
import { type SoftwareStatementIssuers, applySoftwareStatement } from './software-statement.ts';

/**
 * Dynamic client registration (RFC 7591) and its management with a registration access token (RFC 7592), from
 * plain input to data. A registered client is an OAuth application like any other, marked as registered: it uses
 * the authorization code flow with PKCE, and gets only what the user consents to. Its registration access token
 * and client secret are returned once and stored as SHA-256 only.
 */

export interface ClientRegistrationDeps {
  clients: Pick<ClientRecords, 'getClient' | 'deleteClient'>;
  registrations: ClientRegistrationRecords;
  resources: Pick<ResourceRecords, 'listResources'>;
  grants: Pick<UserGrantRecords, 'revokeGrantsOf'>;
  audit: Pick<AuditLog, 'record'>;
  settings: MandateConfig['registration'];
  softwareStatements: SoftwareStatementIssuers;
  /** `<issuer>/register`: the base of each client's `registration_client_uri`. */
  registrationEndpoint: string;
  /** How a `jwks_uri` is read (the metadata-document fetch's defences and settings). */
  jwksFetch: JwksFetchSettings;
}

/** Members a client may not set itself in an update (RFC 7592 §2.2). */
const SERVER_MEMBERS = ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at'];

const invalidToken = (description: string) =>
  new OAuthError('invalid_token', description, { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` } });

const secretMethods = new Set(['client_secret_basic', 'client_secret_post']);

export function clientRegistrationFlow(deps: ClientRegistrationDeps) {
  /** RFC 7591 §3: in `initial-access-token` mode, the request's Bearer token must be one of the configured ones. */
  function checkInitialAccessToken(bearer: string | null): void {
    if (deps.settings.mode !== 'initial-access-token') return;
    if (!bearer) throw invalidToken('an initial access token is required');
    // Every configured hash is compared, each in constant time, so the time taken says nothing about which matched.
    const matches = deps.settings.initialAccessTokenHashes.map((hash) => secretMatchesHash(bearer, hash));
    if (!matches.includes(true)) throw invalidToken('the initial access token is not valid');
  }

  async function parse(body: unknown, now: number) {
    const resources = await deps.resources.listResources();
    const withStatement = await applySoftwareStatement(body, deps.softwareStatements, now);
    const metadata = parseClientMetadata(withStatement.metadata, { defaultMethod: 'client_secret_basic', resources, allowDeviceGrant: deps.settings.allowDeviceGrant });
    let jwks = metadata.jwks ?? null;
    if (metadata.jwks_uri) {
      const fetched = await fetchClientJwks(metadata.jwks_uri, deps.jwksFetch);
      if (!fetched.ok) throw invalidClientMetadata(fetched.reason);
      jwks = fetched.jwks;
    }
    return { metadata, resources, jwks, softwareStatementIssuer: withStatement.issuer };
  }

  function response(record: ClientRecord, metadata: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
    return {
      client_id: record.clientId,
      ...extra,
      client_id_issued_at: record.createdAt,
      ...(record.secretHash ? { client_secret_expires_at: 0 } : {}),
      registration_client_uri: `${deps.registrationEndpoint}/${encodeURIComponent(record.clientId)}`,
      ...metadata,
    };
  }

  /** The client a registration access token manages; the same refusal whether the client or the token is wrong (RFC 7592 §2). */
  async function managed(clientId: string, token: string | null): Promise<{ client: ClientRecord; metadata: Record<string, unknown> }> {
    if (!token) throw invalidToken('a registration access token is required');
    const registration = await deps.registrations.getClientRegistration(clientId);
    const client = registration ? await deps.clients.getClient(clientId) : null;
    if (!registration || !client || registration.source !== 'dynamic' || !secretMatchesHash(token, registration.registrationTokenHash)) {
      throw invalidToken('the registration access token is not valid for this client');
    }
    return { client, metadata: registration.metadata };
  }

  function recordOf(parsed: Awaited<ReturnType<typeof parse>>, clientId: string, secret: string | null, now: number) {
    return clientRecordFromMetadata(clientId, parsed.metadata, {
      resources: parsed.resources,
      secretHash: secret ? hashSecret(secret) : null,
      jwks: parsed.jwks,
      now,
      fallbackName: 'Unnamed application',
    });
  }

  /**
   * A name that looks like one the operator registered, or mixes scripts: refused with `registration.lookAlikeNames`
   * `refuse`; with `warn`, returned for the audit row (the consent page warns on its own).
   */
  async function checkName(name: string, parsed: Awaited<ReturnType<typeof parse>>) {
    const found = await selfRegisteredLookAlike(name, { registrations: deps.registrations, resources: { listResources: async () => parsed.resources } });
    if (found && deps.settings.lookAlikeNames === 'refuse') {
      const what = found.imitates ? `looks like "${found.imitates.name}", the name of a ${found.imitates.kind} registered on this server` : `mixes letters of different alphabets (${found.scripts!.join(', ')})`;
      throw invalidClientMetadata(`client_name ${what}; choose a name of your own`);
    }
    return found && { ...(found.imitates ? { imitates: found.imitates.name, kind: found.imitates.kind } : {}), ...(found.scripts ? { scripts: found.scripts } : {}) };
  }

  return {
    checkInitialAccessToken,

    /** RFC 7591 §3.1: registers a client; 201 with its id, its secret when it uses one, and the RFC 7592 token. */
    async register(input: { body: unknown; ip: string; now: number }): Promise<Record<string, unknown>> {
      const { now } = input;
      // Unused registrations are cleared as new ones arrive, so open registration cannot pile them up.
      const expired = await deps.registrations.deleteUnusedRegisteredClients(now - deps.settings.unusedClientTtlSeconds);
      if (expired.length > 0) await deps.audit.record({ event: 'client.registration_expired', actor: 'system', detail: { clients: expired } });

      const parsed = await parse(input.body, now);
      const { metadata, softwareStatementIssuer } = parsed;
      const secret = secretMethods.has(metadata.token_endpoint_auth_method) ? generateSecret() : null;
      const registrationToken = generateSecret();
      const record = recordOf(parsed, newId('app'), secret, now);
      const lookAlike = await checkName(record.name, parsed);
      const stored = effectiveMetadata(metadata, record);
      await deps.registrations.createRegisteredClient(record, {
        clientId: record.clientId,
        source: 'dynamic',
        registrationTokenHash: hashSecret(registrationToken),
        metadata: { ...stored, ...(softwareStatementIssuer ? { software_statement_issuer: softwareStatementIssuer } : {}) },
        documentExpiresAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await deps.audit.record({
        event: 'client.registered',
        actor: record.clientId,
        subject: record.clientId,
        clientId: record.clientId,
        ip: input.ip,
        detail: {
          source: 'dynamic',
          client_name: record.name,
          redirect_uris: record.redirectUris,
          token_endpoint_auth_method: record.tokenEndpointAuthMethod,
          ...(lookAlike ? { look_alike: lookAlike } : {}),
          ...(softwareStatementIssuer ? { software_statement_issuer: softwareStatementIssuer } : {}),
        },
      });
      return response(record, stored, { ...(secret ? { client_secret: secret } : {}), registration_access_token: registrationToken });
    },

    /** RFC 7592 §2.1: the client's current registration (its secret and token are never stored, so never shown). */
    async read(clientId: string, token: string | null): Promise<Record<string, unknown>> {
      const { client, metadata } = await managed(clientId, token);
      return response(client, metadata, {});
    },

    /** RFC 7592 §2.2: replaces the client's metadata; the client id, secret and token stay. */
    async update(input: { clientId: string; token: string | null; body: unknown; ip: string; now: number }): Promise<Record<string, unknown>> {
      const { client } = await managed(input.clientId, input.token);
      const body = input.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidClientMetadata('the metadata must be a JSON object');
      const fields = body as Record<string, unknown>;
      if (fields['client_id'] !== input.clientId) throw invalidClientMetadata('client_id must be the registered client id');
      const forbidden = SERVER_MEMBERS.filter((member) => member in fields);
      if (forbidden.length > 0) throw invalidClientMetadata(`${forbidden.join(', ')} must not be sent in an update`);
      if ('client_secret' in fields && !(typeof fields['client_secret'] === 'string' && secretMatchesHash(fields['client_secret'], client.secretHash))) {
        throw invalidClientMetadata('client_secret does not match the registered one');
      }
      const parsed = await parse(body, input.now);
      const { metadata } = parsed;
      const hadSecret = client.secretHash !== null;
      if (secretMethods.has(metadata.token_endpoint_auth_method) !== hadSecret) {
        throw invalidClientMetadata('token_endpoint_auth_method cannot change between a client secret and none or private_key_jwt; register a new client');
      }
      const next = recordOf(parsed, input.clientId, null, input.now);
      await checkName(next.name, parsed);
      const stored = effectiveMetadata(metadata, next);
      const { clientId: _id, kind: _kind, status: _status, secretHash: _secret, tokensValidAfter: _after, createdAt: _created, ...patch } = next;
      const updated = await deps.registrations.updateRegisteredClient(input.clientId, patch, { metadata: stored, updatedAt: input.now });
      if (!updated) throw invalidToken('the registration access token is not valid for this client');
      await deps.audit.record({ event: 'client.updated', actor: input.clientId, subject: input.clientId, clientId: input.clientId, ip: input.ip, detail: { source: 'dynamic', fields: Object.keys(fields) } });
      return response(updated, stored, {});
    },

    /** RFC 7592 §2.3: deletes the client; every grant it held ends, and its tokens with the client gone. */
    async remove(input: { clientId: string; token: string | null; ip: string; now: number }): Promise<void> {
      await managed(input.clientId, input.token);
      const revoked = await deps.grants.revokeGrantsOf({ clientId: input.clientId }, input.now);
      await deps.clients.deleteClient(input.clientId, input.now);
      await deps.audit.record({
        event: 'client.deleted',
        actor: input.clientId,
        subject: input.clientId,
        clientId: input.clientId,
        ip: input.ip,
        detail: { source: 'dynamic', ...(revoked.length > 0 ? { grants_revoked: revoked } : {}) },
      });
    },
  };
}

export type ClientRegistrationFlow = ReturnType<typeof clientRegistrationFlow>;
