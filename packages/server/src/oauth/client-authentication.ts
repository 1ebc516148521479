import { CLIENT_ASSERTION_TYPE_JWT_BEARER } from '@mandate/protocol';
import { unstorableText } from '../store/storable-text.ts';
import type { ClientRecord, ClientRecords, ReplayRecords, TokenEndpointAuthMethod } from '../store/store.ts';
import { hashSecret, secretMatchesHash } from '../tokens/secret.ts';
import { CLIENT_ASSERTION_ALGS, usableClientJwks } from './client-jwks.ts';
import type { FormParams } from './form-params.ts';
import { invalidClient, invalidRequest } from './oauth-error.ts';

/**
 * Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3, RFC 7523 §2.2,
 * OAuth 2.1 §2.4): `client_secret_basic`, `client_secret_post`, `private_key_jwt`, or `none` for public clients.
 * Exactly one method per request. Failures say only "client authentication failed" to the client; the reason
 * goes to the audit trail.
 */

/** The methods `authenticateClient` implements, as RFC 8414 names them; the metadata advertises exactly these. */
export const SUPPORTED_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

export interface AuthenticatedClient {
  client: ClientRecord;
  method: TokenEndpointAuthMethod;
}

export interface ClientAuthDeps {
  clients: Pick<ClientRecords, 'getClient'>;
  replay: Pick<ReplayRecords, 'consumeOnce'>;
  issuer: string;
  /** The token endpoint's URL: with the issuer, the only audience a client assertion may name (RFC 7523 §3). */
  tokenEndpoint: string;
  clockSkewSeconds: number;
  clientAssertionMaxTtlSeconds: number;
  /** Other URLs a client assertion may name as its audience here (RFC 9126 §2: the PAR endpoint's). */
  extraAudiences?: readonly string[];
  /** The only methods accepted (the FAPI 2.0 mode: `private_key_jwt`); every supported one when absent. */
  allowedMethods?: readonly TokenEndpointAuthMethod[];
}

const FAILED = 'client authentication failed';

/** Decodes `Authorization: Basic` per RFC 6749 §2.3.1: both parts are form-urlencoded before base64. */
function parseBasic(authorization: string): { clientId: string; secret: string } | null {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization.trim());
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    return clientId ? { clientId, secret } : null;
  } catch {
    return null;
  }
}

function secretMatches(client: ClientRecord, secret: string, now: number): boolean {
  if (secretMatchesHash(secret, client.secretHash)) return true;
  return client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt > now && secretMatchesHash(secret, client.previousSecretHash);
}

async function activeClient(deps: ClientAuthDeps, clientId: string, basicChallenge: boolean): Promise<ClientRecord> {
  // A client id from Basic credentials or an assertion, decoded here (the input guard saw only their encoding): no
  // client id holds a NUL or an unpaired surrogate, which PostgreSQL text cannot (SR-11).
  const unstorable = unstorableText(clientId);
  if (unstorable) throw invalidClient(FAILED, { detail: `client id contains ${unstorable}`, basicChallenge });
  const client = await deps.clients.getClient(clientId);
  if (!client) throw invalidClient(FAILED, { detail: `unknown client ${clientId}`, basicChallenge });
  if (client.status !== 'active') throw invalidClient(FAILED, { detail: `client ${clientId} is disabled`, basicChallenge });
  return client;
}

/** The credentials a request presents: its Authorization header and its form parameters. */
export interface PresentedCredentials {
  authorization: string | undefined;
  params: FormParams;
}

export async function authenticateClient(request: PresentedCredentials, deps: ClientAuthDeps, now: number): Promise<AuthenticatedClient> {
  const authenticated = await authenticateByAnyMethod(request, deps, now);
  if (deps.allowedMethods && !deps.allowedMethods.includes(authenticated.method)) {
    // Not a secret worth hiding: the metadata lists the methods accepted, and the client must learn to use one.
    throw invalidClient(`client authentication must use ${deps.allowedMethods.join(' or ')} (FAPI 2.0 mode)`, {
      detail: `${authenticated.method} refused in the FAPI 2.0 mode`,
      basicChallenge: authenticated.method === 'client_secret_basic',
    });
  }
  return authenticated;
}

async function authenticateByAnyMethod(request: PresentedCredentials, deps: ClientAuthDeps, now: number): Promise<AuthenticatedClient> {
  const { params } = request;
  const usesBasic = request.authorization !== undefined && /^Basic /i.test(request.authorization);
  const usesPost = params.has('client_secret');
  const usesAssertion = params.has('client_assertion') || params.has('client_assertion_type');
  if (Number(usesBasic) + Number(usesPost) + Number(usesAssertion) > 1) {
    throw invalidRequest('use exactly one client authentication method');
  }
  const bodyClientId = params.get('client_id');

  if (usesBasic) {
    const credentials = parseBasic(request.authorization!);
    if (!credentials) throw invalidClient(FAILED, { detail: 'malformed Basic credentials', basicChallenge: true });
    if (bodyClientId !== undefined && bodyClientId !== credentials.clientId) {
      throw invalidRequest('client_id does not match the authenticated client');
    }
    const client = await activeClient(deps, credentials.clientId, true);
    if (!secretMatches(client, credentials.secret, now)) throw invalidClient(FAILED, { detail: 'wrong client secret', basicChallenge: true });
    return { client, method: 'client_secret_basic' };
  }

  if (usesPost) {
    if (bodyClientId === undefined) throw invalidRequest('client_id is required with client_secret');
    const client = await activeClient(deps, bodyClientId, false);
    if (!secretMatches(client, params.get('client_secret')!, now)) throw invalidClient(FAILED, { detail: 'wrong client secret' });
    return { client, method: 'client_secret_post' };
  }

  if (usesAssertion) return authenticateByAssertion(params, bodyClientId, deps, now);

  if (bodyClientId === undefined) throw invalidClient(FAILED, { detail: 'no client authentication' });
  const client = await activeClient(deps, bodyClientId, false);
  if (client.tokenEndpointAuthMethod !== 'none') throw invalidClient(FAILED, { detail: `client ${bodyClientId} must authenticate` });
  return { client, method: 'none' };
}

/**
 * RFC 7523 §3 rules for a `private_key_jwt` client assertion, held tight: `iss` = `sub` = the client; `aud` the
 * issuer or the token endpoint (a single value, or an array of only those: an assertion made for another audience,
 * our JWKS or introspection URL included, is not for us); `exp` required and at most
 * `clientAssertionMaxTtlSeconds` ahead; `iat`, when present, not in the future beyond the clock skew; `jti` required
 * and single use; signed by one of the client's registered public keys with an asymmetric algorithm.
 */
async function authenticateByAssertion(params: FormParams, bodyClientId: string | undefined, deps: ClientAuthDeps, now: number): Promise<AuthenticatedClient> {
  if (params.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE_JWT_BEARER) {
    throw invalidRequest(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE_JWT_BEARER}`);
  }
  const assertion = params.get('client_assertion');
  if (!assertion) throw invalidRequest('client_assertion is required');
  const { client } = await verifyClientAssertion(assertion, deps, now, bodyClientId);
  return { client, method: 'private_key_jwt' };
}

/**
 * Verifies a `private_key_jwt` client assertion by the rules above and consumes its `jti`: the client it proves,
 * and when the assertion expires. Also an agent's proof that it acts, as a token exchange's `actor_token`
 * (SR-04). Throws `invalid_client` (the reason in its detail), or `invalid_request` when `bodyClientId` names
 * another client.
 */
export async function verifyClientAssertion(assertion: string, deps: ClientAuthDeps, now: number, bodyClientId?: string): Promise<{ client: ClientRecord; exp: number }> {
  // jose is loaded at the first client assertion: a deployment without private_key_jwt never holds it (idle memory).
  const { createLocalJWKSet, decodeJwt, errors: joseErrors, jwtVerify } = await import('jose');
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    unverified = decodeJwt(assertion);
  } catch {
    throw invalidClient(FAILED, { detail: 'client_assertion is not a JWT' });
  }
  const clientId = unverified.sub;
  if (typeof clientId !== 'string' || unverified.iss !== clientId) {
    throw invalidClient(FAILED, { detail: 'client_assertion iss and sub must both be the client id' });
  }
  if (bodyClientId !== undefined && bodyClientId !== clientId) throw invalidRequest('client_id does not match client_assertion');

  const client = await activeClient(deps, clientId, false);
  const keys = usableClientJwks(client.jwks);
  if (client.tokenEndpointAuthMethod !== 'private_key_jwt' || keys.keys.length === 0) {
    throw invalidClient(FAILED, { detail: `client ${clientId} is not registered for private_key_jwt (or has no usable public key)` });
  }

  const audiences = [deps.issuer, deps.tokenEndpoint, ...(deps.extraAudiences ?? [])];
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(keys as Parameters<typeof createLocalJWKSet>[0]), {
      algorithms: [...CLIENT_ASSERTION_ALGS],
      issuer: clientId,
      subject: clientId,
      audience: audiences,
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(now * 1000),
      clockTolerance: deps.clockSkewSeconds,
    }));
  } catch (err) {
    const reason = err instanceof joseErrors.JOSEError ? err.code : 'verification failed';
    throw invalidClient(FAILED, { detail: `client_assertion rejected: ${reason}` });
  }
  // jose accepts an `aud` array that merely contains one of ours; every value must be ours.
  const aud = [payload.aud].flat();
  if (!aud.every((value) => typeof value === 'string' && audiences.includes(value))) {
    throw invalidClient(FAILED, { detail: 'client_assertion aud must be the issuer or the endpoint it is sent to, and nothing else' });
  }
  if (payload.iat !== undefined && payload.iat > now + deps.clockSkewSeconds) {
    throw invalidClient(FAILED, { detail: 'client_assertion iat is in the future' });
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') throw invalidClient(FAILED, { detail: 'client_assertion jti must be a non-empty string' });
  const exp = payload.exp!;
  if (exp - now > deps.clientAssertionMaxTtlSeconds) {
    throw invalidClient(FAILED, { detail: `client_assertion lives longer than ${deps.clientAssertionMaxTtlSeconds}s` });
  }
  // Hashed so an oversized jti cannot bloat the replay table.
  const replayKey = `client_assertion:${hashSecret(`${clientId}\u0000${payload.jti}`)}`;
  const fresh = await deps.replay.consumeOnce(replayKey, exp + deps.clockSkewSeconds, now);
  if (!fresh) throw invalidClient(FAILED, { detail: 'client_assertion jti was already used' });
  return { client, exp };
}
