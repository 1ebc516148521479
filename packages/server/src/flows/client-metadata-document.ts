import type { AuditLog } from '../audit/audit-log.ts';
import type { MandateConfig } from '../config.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import type { ClientRegistrationRecords } from '../store/client-registration.ts';
import type { ClientRecord, ClientRecords, ResourceRecords } from '../store/store.ts';
import { fetchClientJwks } from './client-jwks-fetch.ts';
import { clientRecordFromMetadata, effectiveMetadata, parseClientMetadata } from './client-metadata.ts';
import { DocumentFetchError, fetchMetadataDocument, type ResolveHost } from './metadata-document-fetch.ts';

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP 2025-11-25): a `client_id` that
 * is an https URL names the client's metadata, which we fetch (`metadata-document-fetch.ts`) and validate with the
 * same schema as registration. The client is kept as a row of `clients` (so token, revocation and the lifecycle
 * checks find it like any other) with its registration, fetched again when its cache time is over; an operator's
 * disable stands across fetches. A failed or invalid fetch is never cached (CIMD-07): the request is refused with
 * `invalid_client` and the reason.
 */

/** CIMD-02/06: about 5 KB at most. */
export const MAX_DOCUMENT_BYTES = 5120;

export interface MetadataDocumentDeps {
  clients: Pick<ClientRecords, 'getClient'>;
  registrations: Pick<ClientRegistrationRecords, 'getClientRegistration' | 'saveMetadataDocumentClient'>;
  resources: Pick<ResourceRecords, 'listResources'>;
  audit: Pick<AuditLog, 'record'>;
  settings: MandateConfig['clientMetadataDocuments'];
  resolveHost: ResolveHost;
  /** Whether a document may ask for the device grant (`registration.allowDeviceGrant`; RFC 8628 §5.4). False when absent. */
  allowDeviceGrant?: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const refused = (clientId: string, reason: string) => new OAuthError('invalid_client', `the client metadata document ${clientId} ${reason}`);

/** Whether a client id is a URL naming a metadata document here (https; http on loopback in development). */
export function isMetadataDocumentUrl(clientId: string, settings: MetadataDocumentDeps['settings']): boolean {
  if (!settings.enabled) return false;
  return clientId.startsWith('https://') || (settings.allowHttpLocalhost && clientId.startsWith('http://'));
}

/** CIMD-01: https, a path, no dot segments, no fragment, no credentials; http only on loopback in development. */
function urlProblem(clientId: string, settings: MetadataDocumentDeps['settings']): string | null {
  if (!URL.canParse(clientId)) return 'is not a URL';
  const url = new URL(clientId);
  if (url.protocol === 'http:') {
    if (!settings.allowHttpLocalhost || !LOOPBACK_HOSTS.has(url.hostname)) return 'must be an https URL';
  } else if (url.protocol !== 'https:') return 'must be an https URL';
  if (url.username || url.password) return 'must not contain credentials';
  if (clientId.includes('#')) return 'must not have a fragment';
  if (url.pathname === '/' || url.pathname === '') return 'must have a path';
  if (/\/\.\.?(\/|$)/.test(clientId.slice(url.origin.length).split('?')[0]!)) return 'must not have . or .. path segments';
  return null;
}

/** Seconds to keep a document: its Cache-Control `max-age` (none for no-store/no-cache), within the configured bounds. */
export function cacheSeconds(cacheControl: string | undefined, settings: Pick<MetadataDocumentDeps['settings'], 'minCacheSeconds' | 'maxCacheSeconds'>): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',').map((d) => d.trim());
  let seconds = 0;
  if (!directives.includes('no-store') && !directives.includes('no-cache')) {
    const maxAge = directives.find((d) => d.startsWith('max-age='));
    if (maxAge && /^max-age=\d{1,10}$/.test(maxAge)) seconds = Number(maxAge.slice('max-age='.length));
  }
  return Math.min(settings.maxCacheSeconds, Math.max(settings.minCacheSeconds, seconds));
}

const SHARED_SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

export function metadataDocumentFlow(deps: MetadataDocumentDeps) {
  async function fetchAndStore(clientId: string, now: number): Promise<ClientRecord> {
    const problem = urlProblem(clientId, deps.settings);
    if (problem) throw refused(clientId, problem);
    const url = new URL(clientId);
    let fetched;
    try {
      fetched = await fetchMetadataDocument(url, {
        resolve: deps.resolveHost,
        timeoutMs: deps.settings.timeoutMs,
        maxBytes: MAX_DOCUMENT_BYTES,
        loopbackOnly: url.protocol === 'http:',
      });
    } catch (err) {
      if (err instanceof DocumentFetchError) throw refused(clientId, `was refused: ${err.message}`);
      throw err;
    }
    // CIMD-03: JSON, as application/json or application/<x>+json.
    if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(fetched.contentType)) throw refused(clientId, `is not JSON (content type ${fetched.contentType || 'none'})`);
    let document: unknown;
    try {
      document = JSON.parse(fetched.body);
    } catch {
      throw refused(clientId, 'is not valid JSON');
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) throw refused(clientId, 'is not a JSON object');
    const fields = document as Record<string, unknown>;
    if (fields['client_id'] !== clientId) throw refused(clientId, 'names another client_id (it must be the document’s URL, character for character)');
    if (typeof fields['client_name'] !== 'string') throw refused(clientId, 'has no client_name');
    // CIMD-04: a document is public, so it can hold no shared secret.
    if ('client_secret' in fields || 'client_secret_expires_at' in fields) throw refused(clientId, 'must not contain a client secret');
    if (typeof fields['token_endpoint_auth_method'] === 'string' && SHARED_SECRET_METHODS.has(fields['token_endpoint_auth_method'])) {
      throw refused(clientId, `must not use ${fields['token_endpoint_auth_method']}: a shared secret cannot be published`);
    }
    const resources = await deps.resources.listResources();
    let metadata;
    try {
      metadata = parseClientMetadata(fields, { defaultMethod: 'none', resources, allowDeviceGrant: deps.allowDeviceGrant === true });
    } catch (err) {
      if (err instanceof OAuthError) throw refused(clientId, `is invalid: ${err.message}`);
      throw err;
    }
    let jwks = metadata.jwks ?? null;
    if (metadata.jwks_uri) {
      const fetchedKeys = await fetchClientJwks(metadata.jwks_uri, { resolveHost: deps.resolveHost, timeoutMs: deps.settings.timeoutMs, allowHttpLocalhost: deps.settings.allowHttpLocalhost });
      if (!fetchedKeys.ok) throw refused(clientId, `is invalid: ${fetchedKeys.reason}`);
      jwks = fetchedKeys.jwks;
    }
    const record = clientRecordFromMetadata(clientId, metadata, { resources, secretHash: null, jwks, now, fallbackName: url.host });
    const stored = await deps.registrations.saveMetadataDocumentClient(record, {
      clientId,
      source: 'metadata_document',
      registrationTokenHash: null,
      metadata: effectiveMetadata(metadata, record),
      documentExpiresAt: now + cacheSeconds(fetched.cacheControl, deps.settings),
      createdAt: now,
      updatedAt: now,
    });
    await deps.audit.record({
      event: 'client.metadata_document_fetched',
      actor: clientId,
      subject: clientId,
      clientId,
      detail: { client_name: record.name, redirect_uris: record.redirectUris, token_endpoint_auth_method: record.tokenEndpointAuthMethod },
    });
    return stored;
  }

  return {
    /**
     * The client a metadata-document URL names: from the store while its document is fresh, else fetched again.
     * Throws `invalid_client` with the reason when the document cannot be used.
     */
    async resolve(clientId: string, now: number): Promise<ClientRecord> {
      const registration = await deps.registrations.getClientRegistration(clientId);
      if (registration?.source === 'metadata_document' && registration.documentExpiresAt !== null && registration.documentExpiresAt > now) {
        const client = await deps.clients.getClient(clientId);
        if (client) return client;
      }
      return fetchAndStore(clientId, now);
    },
  };
}

export type MetadataDocumentFlow = ReturnType<typeof metadataDocumentFlow>;
