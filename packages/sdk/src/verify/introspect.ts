import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import { IntrospectionFailed, IntrospectionUnauthorized, MetadataInvalid } from '../errors.ts';
import { basicAuthorization } from '../lib/basic-auth.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';

/**
 * How a resource authenticates to the introspection endpoint (RFC 7662 §2.1 requires it to): its API key
 * (Mandate's `mrk_…`, sent as a bearer credential) or client credentials (HTTP Basic, RFC 6749 §2.3.1).
 */
export type IntrospectionCredentials =
  | { apiKey: string }
  | { clientId: string; clientSecret: string };

/** An RFC 7662 §2.2 introspection response. Members other than `active` appear only for an active token. */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  jti?: string;
  /** RFC 8693 §4.1: the delegation chain. */
  act?: Record<string, unknown>;
  /** RFC 7800 / RFC 9449 §6.2: the key a sender-constrained token is bound to. */
  cnf?: Record<string, unknown>;
  [member: string]: unknown;
}

/** Options of {@link createIntrospector} and {@link introspect}. */
export interface IntrospectOptions extends HttpOptions {
  /** The authorization server; its `introspection_endpoint` is discovered from its metadata (RFC 8414). */
  issuer: string;
  credentials: IntrospectionCredentials;
}

/** The `Authorization` header value for the credentials; a malformed value is the caller's misuse (TypeError). */
export function introspectionAuthorization(credentials: IntrospectionCredentials): string {
  if (typeof credentials === 'object' && credentials !== null) {
    if ('apiKey' in credentials && typeof credentials.apiKey === 'string' && credentials.apiKey !== '') return `Bearer ${credentials.apiKey}`;
    if ('clientId' in credentials && typeof credentials.clientId === 'string' && credentials.clientId !== '' && typeof credentials.clientSecret === 'string') {
      return basicAuthorization(credentials.clientId, credentials.clientSecret);
    }
  }
  throw new TypeError('introspection credentials must be { apiKey } or { clientId, clientSecret }');
}

/**
 * POSTs one token to an introspection endpoint (RFC 7662 §2.1) and reads the answer (§2.2). An answer that cannot
 * be had is `ERR_INTROSPECTION_FAILED` (unreachable, a 5xx, not an RFC 7662 document); a 401 or 403 is the
 * endpoint refusing the resource's own credentials, `ERR_INTROSPECTION_UNAUTHORIZED`, which no retry will fix.
 */
export async function requestIntrospection(
  endpoint: string,
  token: string,
  authorization: string,
  http: HttpOptions,
  tokenTypeHint: 'access_token' | 'refresh_token' | undefined = 'access_token',
): Promise<IntrospectionResponse> {
  const form = new URLSearchParams({ token });
  if (tokenTypeHint !== undefined) form.set('token_type_hint', tokenTypeHint);
  let answer;
  try {
    answer = await fetchJson(
      endpoint,
      { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
      http,
    );
  } catch (cause) {
    throw new IntrospectionFailed(`could not reach ${endpoint}`, { cause });
  }
  if (answer.status === 401 || answer.status === 403) {
    const error = isJsonObject(answer.json) && typeof answer.json.error === 'string' ? answer.json.error : undefined;
    throw new IntrospectionUnauthorized(endpoint, answer.status, error);
  }
  if (answer.status !== 200 || !isJsonObject(answer.json) || typeof answer.json.active !== 'boolean') {
    throw new IntrospectionFailed(`${endpoint} answered ${answer.status} without an RFC 7662 response`);
  }
  return answer.json as IntrospectionResponse;
}

/** A resource server's introspection client, from {@link createIntrospector}. */
export interface IntrospectionClient {
  readonly issuer: string;
  /**
   * Asks whether `token` is active. An active answer about another issuer's token (`iss` present and not the
   * issuer) is reported as `{ active: false }`: it cannot describe a token this resource should accept.
   */
  introspect(token: string, options?: { tokenTypeHint?: 'access_token' | 'refresh_token' }): Promise<IntrospectionResponse>;
}

/**
 * Creates an introspection client for a resource server (RFC 7662): the endpoint is discovered once from the
 * issuer's metadata (RFC 8414, issuer checked per §3.3), each call authenticates with the resource's API key or
 * client credentials. Errors are coded: `ERR_INTROSPECTION_UNAUTHORIZED` when the AS refuses the credentials (a
 * configuration error), `ERR_INTROSPECTION_FAILED` when it cannot be reached or answers garbage,
 * `ERR_METADATA_*` when discovery fails.
 *
 * @example
 * const introspection = createIntrospector({ issuer: 'https://auth.example.com', credentials: { apiKey: process.env.MANDATE_RESOURCE_API_KEY! } });
 * const answer = await introspection.introspect(token);
 * if (!answer.active) return unauthorized();
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 */
export function createIntrospector(options: IntrospectOptions): IntrospectionClient {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  assertIssuerIdentifier(options.issuer);
  const authorization = introspectionAuthorization(options.credentials);
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const endpointOf = introspectionEndpointOf(options.issuer, http);
  return {
    issuer: options.issuer,
    async introspect(token, callOptions = {}) {
      if (typeof token !== 'string' || token === '') throw new TypeError('token must be a non-empty string');
      const endpoint = await endpointOf();
      const answer = await requestIntrospection(endpoint, token, authorization, http, callOptions.tokenTypeHint ?? 'access_token');
      if (answer.active && answer.iss !== undefined && answer.iss !== options.issuer) return { active: false };
      return answer;
    },
  };
}

/**
 * One-shot RFC 7662 introspection: {@link createIntrospector} for a single call. A resource server that
 * introspects on every request should keep an introspector (or use `createVerifier`'s introspection mode, which
 * verifies the JWT first and caches answers).
 *
 * @example
 * const { active, sub, scope } = await introspect(token, { issuer, credentials: { clientId: 'rs_1', clientSecret } });
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.1
 */
export function introspect(token: string, options: IntrospectOptions & { tokenTypeHint?: 'access_token' | 'refresh_token' }): Promise<IntrospectionResponse> {
  const { tokenTypeHint, ...rest } = options;
  return createIntrospector(rest).introspect(token, tokenTypeHint === undefined ? {} : { tokenTypeHint });
}

/** The issuer's `introspection_endpoint`, read from its metadata (RFC 8414, fetched once) when first asked for. */
export function introspectionEndpointOf(issuer: string, http: HttpOptions): () => Promise<string> {
  const metadata = cachedMetadata(issuer, http);
  return async () => {
    const value = (await metadata()).introspection_endpoint;
    if (!isAcceptableEndpoint(value)) throw new MetadataInvalid('introspection_endpoint');
    return value;
  };
}
