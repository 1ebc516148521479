import { jwksInput } from '../oauth/client-jwks.ts';
import type { ClientRecord } from '../store/store.ts';
import { DocumentFetchError, fetchMetadataDocument, type ResolveHost } from './metadata-document-fetch.ts';

/**
 * A self-registered client's `jwks_uri` (RFC 7591 §2), read once when the client registers or updates its
 * registration (RFC 7592), or when its metadata document is fetched: through the same SSRF-checked fetch as metadata
 * documents (public addresses only, pinned connection, no redirects, a size cap, a deadline), then held to the
 * same rules as a `jwks` member (public asymmetric keys only, SR-12). The keys are kept, not fetched per request,
 * so a client that rotates its keys updates its registration (or its document is fetched again when its cache ends).
 */

/** Several RSA keys fit; a JWK Set has no reason to be larger. */
const MAX_JWKS_BYTES = 16_384;

export interface JwksFetchSettings {
  resolveHost: ResolveHost;
  timeoutMs: number;
  /** Development: http on a loopback host is fetched from loopback (clientMetadataDocuments.allowHttpLocalhost). */
  allowHttpLocalhost: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The keys at `uri`, or why they cannot be used (a sentence for `invalid_client_metadata` or `invalid_client`). */
export async function fetchClientJwks(uri: string, settings: JwksFetchSettings): Promise<{ ok: true; jwks: NonNullable<ClientRecord['jwks']> } | { ok: false; reason: string }> {
  const url = new URL(uri);
  const devHttp = url.protocol === 'http:' && settings.allowHttpLocalhost && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !devHttp) return { ok: false, reason: `jwks_uri ${uri} must be an https URL` };
  let body: string;
  try {
    body = (await fetchMetadataDocument(url, { resolve: settings.resolveHost, timeoutMs: settings.timeoutMs, maxBytes: MAX_JWKS_BYTES, loopbackOnly: devHttp })).body;
  } catch (err) {
    if (err instanceof DocumentFetchError) return { ok: false, reason: `jwks_uri ${uri} was refused: ${err.message}` };
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: `jwks_uri ${uri} is not JSON` };
  }
  const checked = jwksInput.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    return { ok: false, reason: `jwks_uri ${uri}: ${issue.path.join('.') || 'the key set'}: ${issue.message}` };
  }
  return { ok: true, jwks: checked.data };
}
