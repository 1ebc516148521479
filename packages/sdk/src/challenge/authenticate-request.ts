import { JWS_ALGORITHMS } from '@mandate/protocol';
import { MandateError } from '../errors.ts';
import type { AnyMandateError } from '../errors.ts';
import { protectedResourceMetadataUrl } from '../metadata/protected-resource.ts';
import type { AuthInfo } from '../verify/auth-info.ts';
import type { Verifier } from '../verify/create-verifier.ts';
import { extractAccessToken } from './extract-token.ts';
import type { CredentialSources } from './extract-token.ts';
import { buildWwwAuthenticate } from './www-authenticate.ts';

/** Options shared by every middleware: what to verify against and how to challenge. */
export interface AuthenticateOptions {
  verifier: Pick<Verifier, 'verify' | 'audience' | 'dpopAlgorithms' | 'dpopRequired'>;
  /** Scopes every request must carry; a token without them gets a 403 `insufficient_scope`. */
  requiredScopes?: readonly string[];
  /**
   * Scopes the 401 challenges name (RFC 6750 §3 `scope`): what a client should ask for to make a first call (MCP
   * authorization 2025-11-25, "Scope Selection Strategy": clients use the 401's `scope` before anything else).
   * Default: `requiredScopes`.
   */
  challengeScopes?: readonly string[];
  /**
   * The `resource_metadata` URL put in every challenge (RFC 9728 §5.1). Default: the path-inserted metadata URL
   * of the verifier's first audience.
   */
  resourceMetadataUrl?: string;
  /** Optional `realm` of the challenge (RFC 6750 §3). */
  realm?: string;
}

/** A refusal ready to be written by any framework: status, headers and a small JSON body. */
export interface Rejection {
  status: 400 | 401 | 403 | 500 | 503;
  headers: Record<string, string>;
  body: { error: string; error_description?: string };
  /** The error behind the refusal, for logs. */
  cause: AnyMandateError;
}

/** The outcome of {@link authenticateCredentials}. */
export type AuthOutcome = { ok: true; auth: AuthInfo } | { ok: false; rejection: Rejection };

/**
 * The web-standard core of every middleware: finds the bearer token (RFC 6750 §2), verifies it, checks scopes, and
 * either returns the {@link AuthInfo} or a {@link Rejection} with the right status and `WWW-Authenticate` challenge.
 * Errors that are not the SDK's (bugs) are rethrown for the framework's error handling.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export async function authenticateCredentials(sources: CredentialSources, options: AuthenticateOptions): Promise<AuthOutcome> {
  let scheme: 'Bearer' | 'DPoP' = 'Bearer';
  try {
    const presented = extractAccessToken(sources);
    scheme = presented.scheme;
    const request = { scheme, proof: sources.headers.get('dpop'), method: sources.method ?? 'GET', url: sources.url };
    const verifyOptions = options.requiredScopes === undefined ? { request } : { requiredScopes: options.requiredScopes, request };
    return { ok: true, auth: await options.verifier.verify(presented.token, verifyOptions) };
  } catch (err) {
    if (!(err instanceof MandateError)) throw err;
    return { ok: false, rejection: rejectionFor(err as AnyMandateError, options, scheme) };
  }
}

/**
 * {@link authenticateCredentials} for a fetch `Request`. A form body (RFC 6750 §2.2) is read from a clone, only to
 * refuse a token sent there as well.
 */
export async function authenticateRequest(request: Request, options: AuthenticateOptions): Promise<AuthOutcome> {
  let bodyHasAccessToken = false;
  const type = request.headers.get('content-type') ?? '';
  if (request.body !== null && type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    bodyHasAccessToken = new URLSearchParams(await request.clone().text()).has('access_token');
  }
  return authenticateCredentials({ headers: request.headers, url: request.url, method: request.method, bodyHasAccessToken }, options);
}

/** Scopes never named in a challenge (MCP-RS-05, MCP 2026-07-28: clients must not be steered to `offline_access`). */
const unadvertisedScopes = new Set(['offline_access']);

/**
 * Scopes a token may hold that are about the user's identity at the AS, not about this resource (OpenID Connect
 * Core §5.4, §11): a 403 names the held scopes a client should keep, and these are not the resource's to name.
 */
const identityScopes = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);

/**
 * The `scope` of a 403 `insufficient_scope` challenge: the scopes the operation needs, then the resource scopes the
 * token already has (MCP authorization 2025-11-25, "Scope Challenge Handling", recommended approach), so that a
 * client re-authorizing with exactly this set keeps what it had instead of trading it for the new scope.
 */
export function insufficientScopeChallenge(required: readonly string[], granted: readonly string[]): string[] {
  const scopes = new Set(required.filter((s) => !unadvertisedScopes.has(s)));
  for (const scope of granted) if (!identityScopes.has(scope)) scopes.add(scope);
  return [...scopes];
}

/**
 * Maps an SDK error to its HTTP refusal: `invalid_request` 400, `invalid_token` 401, `insufficient_scope` 403
 * (RFC 6750 §3.1), a bare 401 challenge when no token was sent, and 503 when the authorization server could not be
 * reached (the token was not judged, so the client should retry rather than re-authorize). 401s name
 * `challengeScopes`; a 403 names the operation's scopes and the resource scopes already held
 * ({@link insufficientScopeChallenge}).
 */
export function rejectionFor(
  err: AnyMandateError,
  options: Pick<AuthenticateOptions, 'realm' | 'resourceMetadataUrl' | 'verifier' | 'requiredScopes' | 'challengeScopes'>,
  scheme: 'Bearer' | 'DPoP' = 'Bearer',
): Rejection {
  const resourceMetadata = options.resourceMetadataUrl ?? defaultMetadataUrl(options.verifier.audience);
  // RFC 9449 §7.1: a token presented with DPoP (or one that needs it) is answered in the DPoP scheme, with `algs`.
  const dpop = { scheme: 'DPoP' as const, realm: options.realm, resourceMetadata, algs: options.verifier.dpopAlgorithms ?? JWS_ALGORITHMS };
  const challenge = scheme === 'DPoP' ? dpop : { realm: options.realm, resourceMetadata };
  // Every 401 names the first-call scopes, also for a token that has expired: the client re-authorizes with them.
  const announced = (options.challengeScopes ?? options.requiredScopes ?? []).filter((s) => !unadvertisedScopes.has(s));
  const reject = (status: Rejection['status'], error: string, wwwAuthenticate?: string): Rejection => {
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (wwwAuthenticate !== undefined) headers['www-authenticate'] = wwwAuthenticate;
    const body: Rejection['body'] = { error };
    // A 5xx says nothing about the resource's own configuration or the AS to the client; the cause is for logs.
    if (err.code !== 'ERR_TOKEN_MISSING') body.error_description = status === 503 ? 'authorization server unavailable' : status === 500 ? 'the token could not be checked' : err.message;
    return { status, headers, body, cause: err };
  };
  switch (err.code) {
    // RFC 9449 §7.1: the resource accepts DPoP, so the challenge offers it with its algorithms: next to Bearer (which
    // comes first and carries the parameters, where clients that know only Bearer read them), or alone when only
    // DPoP-bound tokens are accepted.
    case 'ERR_TOKEN_MISSING':
      return reject(
        401,
        'unauthorized',
        options.verifier.dpopRequired
          ? buildWwwAuthenticate({ ...dpop, scope: announced })
          : `${buildWwwAuthenticate({ ...challenge, scope: announced })}, ${buildWwwAuthenticate({ scheme: 'DPoP', algs: dpop.algs })}`,
      );
    case 'ERR_REQUEST_INVALID':
      return reject(400, 'invalid_request', buildWwwAuthenticate({ ...challenge, error: 'invalid_request', errorDescription: err.message }));
    // RFC 9449 §7.2: a DPoP-bound token sent as Bearer; the client must use its key.
    case 'ERR_TOKEN_SENDER_CONSTRAINED':
      return reject(401, 'invalid_token', buildWwwAuthenticate({ ...dpop, error: 'invalid_token', errorDescription: err.message }));
    case 'ERR_DPOP_PROOF_INVALID':
      return reject(401, 'invalid_dpop_proof', buildWwwAuthenticate({ ...dpop, error: 'invalid_dpop_proof', errorDescription: err.message }));
    case 'ERR_DPOP_NONCE_REQUIRED': {
      const rejection = reject(401, 'use_dpop_nonce', buildWwwAuthenticate({ ...dpop, error: 'use_dpop_nonce', errorDescription: err.message }));
      rejection.headers['dpop-nonce'] = err.nonce;
      return rejection;
    }
    // A bearer token: the Bearer scheme is what the client should use, unless the resource takes DPoP-bound tokens only.
    case 'ERR_TOKEN_NOT_DPOP_BOUND': {
      const scheme = err.required ? dpop : { realm: options.realm, resourceMetadata };
      return reject(401, 'invalid_token', buildWwwAuthenticate({ ...scheme, error: 'invalid_token', errorDescription: err.message }));
    }
    case 'ERR_INSUFFICIENT_SCOPE': {
      const scope = insufficientScopeChallenge(err.requiredScopes, err.grantedScopes);
      return reject(403, 'insufficient_scope', buildWwwAuthenticate({ ...challenge, error: 'insufficient_scope', errorDescription: err.message, scope }));
    }
    // The AS refused this resource's own introspection credentials: a configuration error, not an outage (no Retry-After).
    case 'ERR_INTROSPECTION_UNAUTHORIZED':
      return reject(500, 'server_error');
    case 'ERR_JWKS_FETCH_FAILED':
    case 'ERR_METADATA_FETCH_FAILED':
    case 'ERR_METADATA_ISSUER_MISMATCH':
    case 'ERR_METADATA_INVALID':
    case 'ERR_INTROSPECTION_FAILED':
    case 'ERR_TOKEN_REQUEST_FAILED': {
      const rejection = reject(503, 'temporarily_unavailable');
      rejection.headers['retry-after'] = '5';
      return rejection;
    }
    default:
      return reject(401, 'invalid_token', buildWwwAuthenticate({ ...challenge, error: 'invalid_token', errorDescription: err.message, scope: announced }));
  }
}

/** A fetch `Response` for a rejection: its status, the RFC 6750 §3 `WWW-Authenticate` challenge and a JSON body. */
export function rejectionResponse(rejection: Rejection): Response {
  return Response.json(rejection.body, { status: rejection.status, headers: rejection.headers });
}

function defaultMetadataUrl(audience: readonly string[]): string | undefined {
  const first = audience[0];
  return first !== undefined && URL.canParse(first) ? protectedResourceMetadataUrl(first) : undefined;
}
