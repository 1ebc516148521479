import type { createRemoteJWKSet } from 'jose';
import type * as OAuth from 'oauth4webapi';
import type { UpstreamProviderConfig } from '../config.ts';
import { normalizeEmail } from './email-address.ts';

/**
 * Login through upstream OpenID providers (Google or any issuer with discovery), as a relying party built on
 * oauth4webapi: discovery (with the issuer checked, RFC 8414 §3.3), authorization code with PKCE S256, `state`
 * and `nonce`, RFC 9207 `iss` checked when the provider supports it, and the ID token's claims validated (iss,
 * aud, exp, nonce) by oauth4webapi and its signature by jose against the provider's JWKS, with only the algorithms
 * the provider advertises. Plain http is accepted only for loopback issuers (config refuses the rest).
 */

export interface UpstreamIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** oauth4webapi is loaded at the first upstream login rather than at start (most deployments configure none). */
let oauthModule: Promise<typeof OAuth> | undefined;
const relyingParty = () => (oauthModule ??= import('oauth4webapi'));

interface Discovered {
  oauth: typeof OAuth;
  as: OAuth.AuthorizationServer;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

export class UpstreamProviders {
  readonly #providers: Map<string, Readonly<UpstreamProviderConfig>>;
  readonly #discovered = new Map<string, Promise<Discovered>>();

  constructor(providers: readonly Readonly<UpstreamProviderConfig>[]) {
    this.#providers = new Map(providers.map((p) => [p.id, p]));
  }

  get(id: string): Readonly<UpstreamProviderConfig> | undefined {
    return this.#providers.get(id);
  }

  #insecure(provider: UpstreamProviderConfig): boolean {
    return new URL(provider.issuer).protocol === 'http:';
  }

  #discover(provider: Readonly<UpstreamProviderConfig>): Promise<Discovered> {
    let found = this.#discovered.get(provider.id);
    if (!found) {
      found = (async () => {
        const oauth = await relyingParty();
        const issuer = new URL(provider.issuer);
        const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.allowInsecureRequests]: this.#insecure(provider) });
        const as = await oauth.processDiscoveryResponse(issuer, response);
        if (!as.jwks_uri || !as.authorization_endpoint) throw new Error(`provider ${provider.id} has no jwks_uri or authorization_endpoint`);
        // jose, like oauth4webapi, is loaded at the first upstream login (idle memory).
        const { createRemoteJWKSet } = await import('jose');
        return { oauth, as, jwks: createRemoteJWKSet(new URL(as.jwks_uri)) };
      })();
      // A failed discovery is retried next time rather than cached.
      found.catch(() => this.#discovered.delete(provider.id));
      this.#discovered.set(provider.id, found);
    }
    return found;
  }

  /** The provider's authorization URL for this login attempt. */
  async authorizationUrl(provider: Readonly<UpstreamProviderConfig>, redirectUri: string, attempt: { state: string; nonce: string; codeVerifier: string }): Promise<string> {
    const { oauth, as } = await this.#discover(provider);
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', provider.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', provider.scopes.join(' '));
    url.searchParams.set('state', attempt.state);
    url.searchParams.set('nonce', attempt.nonce);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(attempt.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.href;
  }

  /** Completes the login from the callback URL; throws on any mismatch. */
  async complete(provider: Readonly<UpstreamProviderConfig>, callbackUrl: URL, redirectUri: string, attempt: { state: string; nonce: string; codeVerifier: string }): Promise<UpstreamIdentity> {
    const { oauth, as, jwks } = await this.#discover(provider);
    const client: OAuth.Client = { client_id: provider.clientId };
    const auth = provider.clientSecret ? oauth.ClientSecretBasic(provider.clientSecret) : oauth.None();
    const params = oauth.validateAuthResponse(as, client, callbackUrl, attempt.state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, attempt.codeVerifier, {
      [oauth.allowInsecureRequests]: this.#insecure(provider),
    });
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: attempt.nonce, requireIdToken: true });
    const claims = oauth.getValidatedIdTokenClaims(result)!;
    const { jwtVerify } = await import('jose');
    await jwtVerify(result.id_token!, jwks, {
      issuer: as.issuer,
      audience: provider.clientId,
      algorithms: as.id_token_signing_alg_values_supported ?? ['RS256'],
    });
    let profile: Record<string, unknown> = claims;
    // OIDC Core §5.4: with an access token, providers may release email and name only at userinfo (oidc-provider's
    // default); ask there, with the subject pinned to the ID token's (§5.3.2).
    if ((typeof claims['email'] !== 'string' || typeof claims['name'] !== 'string') && as.userinfo_endpoint) {
      const userinfo = await oauth.userInfoRequest(as, client, result.access_token, { [oauth.allowInsecureRequests]: this.#insecure(provider) });
      profile = { ...(await oauth.processUserInfoResponse(as, client, claims.sub, userinfo)), ...claims };
    }
    return {
      issuer: as.issuer,
      subject: claims.sub,
      email: upstreamEmail(profile['email']),
      emailVerified: profile['email_verified'] === true,
      name: typeof profile['name'] === 'string' ? profile['name'] : null,
    };
  }
}

/**
 * The provider's address in the form local accounts use (SR-17), or null when it has none: an address with
 * invisible or compatibility characters is dropped rather than folded onto another account's (it neither links
 * nor is given to a new account, whose ID tokens would carry it).
 */
function upstreamEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const normalized = normalizeEmail(value);
  return normalized.ok ? normalized.email : null;
}
