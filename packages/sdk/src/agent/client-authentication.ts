import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CLIENT_ASSERTION_TYPE_JWT_BEARER } from '@mandate/protocol';
import { importJWK, SignJWT } from 'jose';
import type { JWK } from 'jose';
import { basicAuthorization } from '../lib/basic-auth.ts';
import type { AppClientOptions } from './client-options.ts';

/** Token endpoint client authentication methods (RFC 6749 §2.3.1, RFC 7523 §2.2 / OIDC Core §9). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** An application's methods: those of {@link TokenEndpointAuthMethod}, or `none` for a public client. */
export type AppAuthMethod = TokenEndpointAuthMethod | 'none';

/** Where a client assertion's `aud` points: the AS issuer (RFC 7523bis) or the token endpoint URL (OIDC Core §9). */
export type AssertionAudience = 'issuer' | 'token_endpoint';

/** What a request to an AS endpoint needs to authenticate the client. */
export interface AuthenticationTarget {
  issuer: string;
  /** The endpoint the request goes to (token, revocation). */
  endpoint: string;
  /**
   * The AS's token endpoint: the `aud` of an assertion with `audience: 'token_endpoint'`, whichever endpoint it is
   * sent to (RFC 7523 §3; Mandate accepts only the issuer or the token endpoint, never another endpoint's URL).
   * Unknown (no `token_endpoint` in the metadata): the assertion names the issuer.
   */
  tokenEndpoint: string | undefined;
}

/**
 * Adds client authentication to a request to one of the AS's endpoints (token, revocation): sets a header or adds
 * form parameters. One function per method, so that new methods slot in without touching callers.
 */
export type ClientAuthentication = (form: URLSearchParams, headers: Headers, target: AuthenticationTarget) => Promise<void>;

/** `client_secret_basic` (RFC 6749 §2.3.1): HTTP Basic with the form-urlencoded id and secret. */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuthentication {
  const authorization = basicAuthorization(clientId, clientSecret);
  return async (_form, headers) => {
    headers.set('authorization', authorization);
  };
}

/** `client_secret_post` (RFC 6749 §2.3.1): the id and secret as form parameters. */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuthentication {
  return async (form) => {
    form.set('client_id', clientId);
    form.set('client_secret', clientSecret);
  };
}

/** Options of {@link privateKeyJwt}. */
export interface PrivateKeyJwtOptions {
  /** JWS algorithm of the assertion. Default: ES256 for a P-256 key, EdDSA for Ed25519, RS256 for RSA. */
  alg?: string;
  /** `kid` header, so the AS can pick the key among the client's registered ones. */
  kid?: string;
  /** Default `issuer`: an audience only the AS accepts, which defeats assertion reuse across endpoints. */
  audience?: AssertionAudience;
  /** Assertion lifetime in seconds. Default 60. */
  lifetimeSeconds?: number;
  clock?: () => number;
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, §3): a short-lived JWT signed with the client's private key, with
 * `iss` = `sub` = client id, `aud` = the AS, a fresh `jti`, and `exp`.
 */
export function privateKeyJwt(clientId: string, privateKey: KeyObject | JWK, options: PrivateKeyJwtOptions = {}): ClientAuthentication {
  const alg = options.alg ?? inferAlgorithm(privateKey);
  const lifetime = options.lifetimeSeconds ?? 60;
  const clock = options.clock ?? Date.now;
  const key = isKeyObject(privateKey) ? Promise.resolve(privateKey) : importJWK(privateKey, alg);
  return async (form, _headers, target) => {
    const now = Math.floor(clock() / 1000);
    const header = options.kid === undefined ? { alg } : { alg, kid: options.kid };
    const assertion = await new SignJWT({})
      .setProtectedHeader(header)
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(options.audience === 'token_endpoint' && target.tokenEndpoint !== undefined ? target.tokenEndpoint : target.issuer)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .sign(await key);
    form.set('client_id', clientId);
    form.set('client_assertion_type', CLIENT_ASSERTION_TYPE_JWT_BEARER);
    form.set('client_assertion', assertion);
  };
}

function isKeyObject(key: unknown): key is KeyObject {
  return typeof key === 'object' && key !== null && 'asymmetricKeyType' in key && 'export' in key;
}

function inferAlgorithm(key: KeyObject | JWK): string {
  if (isKeyObject(key)) {
    if (key.type !== 'private') throw new TypeError('privateKey must be a private key');
    switch (key.asymmetricKeyType) {
      case 'ec':
        if (key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
        break;
      case 'ed25519':
        return 'EdDSA';
      case 'rsa':
        return 'RS256';
    }
    throw new TypeError('cannot infer the JWS algorithm of privateKey: pass privateKeyAlg');
  }
  if (typeof key.alg === 'string') return key.alg;
  if (key.kty === 'EC' && key.crv === 'P-256') return 'ES256';
  if (key.kty === 'OKP' && key.crv === 'Ed25519') return 'EdDSA';
  if (key.kty === 'RSA') return 'RS256';
  throw new TypeError('cannot infer the JWS algorithm of privateKey: pass privateKeyAlg');
}

/**
 * `none` (OAuth 2.1 §2.4, RFC 7591 §2): a public client names itself with `client_id` and proves nothing else; its
 * codes are protected by PKCE and its refresh tokens by rotation.
 */
export function publicClient(clientId: string): ClientAuthentication {
  return async (form) => {
    form.set('client_id', clientId);
  };
}

/** The options that choose a client's authentication. */
export interface AuthenticationOptions {
  clientId: string;
  clientSecret?: string | undefined;
  privateKey?: KeyObject | JWK | undefined;
  privateKeyAlg?: string | undefined;
  privateKeyKid?: string | undefined;
  assertionAudience?: AssertionAudience | undefined;
  /** Default: `private_key_jwt` when `privateKey` is given, else `client_secret_basic`. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined;
  clock?: (() => number) | undefined;
}

/** An application's client id, redirect URI and authentication, ready to use. */
export interface AppClient {
  clientId: string;
  redirectUri: string | undefined;
  authenticate: ClientAuthentication;
}

/** An application's authentication: `none` (public, the default) unless it has a secret or a key. */
export function appClientFor(app: AppClientOptions, options: Pick<AuthenticationOptions, 'assertionAudience' | 'clock'>): AppClient {
  if (typeof app !== 'object' || app === null) throw new TypeError('app must be an object');
  if (typeof app.clientId !== 'string' || app.clientId === '') throw new TypeError('app.clientId must be a non-empty string');
  if (app.redirectUri !== undefined && (typeof app.redirectUri !== 'string' || !URL.canParse(app.redirectUri))) throw new TypeError('app.redirectUri must be an absolute URI');
  const method = app.tokenEndpointAuthMethod ?? (app.privateKey !== undefined ? 'private_key_jwt' : app.clientSecret !== undefined ? 'client_secret_basic' : 'none');
  const authenticate =
    method === 'none'
      ? publicClient(app.clientId)
      : clientAuthenticationFor({ ...app, tokenEndpointAuthMethod: method, assertionAudience: options.assertionAudience, clock: options.clock });
  return { clientId: app.clientId, redirectUri: app.redirectUri, authenticate };
}

/** The {@link ClientAuthentication} the options describe; a missing secret or key is a `TypeError`. */
export function clientAuthenticationFor(options: AuthenticationOptions): ClientAuthentication {
  const method = options.tokenEndpointAuthMethod ?? (options.privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic');
  switch (method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (typeof options.clientSecret !== 'string' || options.clientSecret === '') {
        throw new TypeError(`clientSecret is required for ${method}`);
      }
      return method === 'client_secret_basic'
        ? clientSecretBasic(options.clientId, options.clientSecret)
        : clientSecretPost(options.clientId, options.clientSecret);
    case 'private_key_jwt':
      if (options.privateKey === undefined) throw new TypeError('privateKey is required for private_key_jwt');
      return privateKeyJwt(options.clientId, options.privateKey, {
        ...(options.privateKeyAlg === undefined ? {} : { alg: options.privateKeyAlg }),
        ...(options.privateKeyKid === undefined ? {} : { kid: options.privateKeyKid }),
        ...(options.assertionAudience === undefined ? {} : { audience: options.assertionAudience }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      });
    default:
      throw new TypeError(`unsupported tokenEndpointAuthMethod ${String(method)}`);
  }
}
