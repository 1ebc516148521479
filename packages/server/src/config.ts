import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { SIGNING_ALGORITHMS } from '@mandate/protocol';
import { z } from 'zod';

/**
 * The server's whole configuration, written once. Each option below is its schema (what it accepts), its default,
 * and a comment with its meaning, unit, default and why that default, and the environment variable that sets it.
 * `MandateConfig` is the schema's type and `defaults` is the schema applied to nothing, so nothing here is written
 * twice. The configuration is parsed once at startup (`resolveConfig`: overrides over the defaults), frozen, and
 * handed out in parts; an invalid value is refused with its path and what it must be, e.g.
 * `tokens.accessTokenTtlSeconds must be a whole number of seconds between 60 and 86400 (from MANDATE_ACCESS_TOKEN_TTL)`.
 * `configFromEnvironment` is the one reader of Mandate's environment variables (`ENVIRONMENT_VARIABLES`).
 */

const wholeNumber = (min: number, max: number, unit?: string) => {
  const expected = `must be a whole number${unit ? ` of ${unit}` : ''} between ${min} and ${max}`;
  return z.number({ error: expected }).int({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
};
const seconds = (min: number, max: number) => wholeNumber(min, max, 'seconds');
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
const yesNo = () => z.boolean({ error: 'must be true or false' });
/** A group of options; absent means all its defaults. */
const group = <S extends z.ZodRawShape>(shape: S) => {
  const options = z.strictObject(shape);
  return options.prefault({} as z.input<typeof options>);
};
const isLoopbackHost = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

const issuerUrl = z.string({ error: 'must be a URL' }).refine((value) => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash && !value.endsWith('/');
}, 'must be an http(s) URL without query, fragment or trailing slash');

const upstreamProvider = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1–40 lower-case letters, digits and dashes'),
    name: z.string().min(1).max(100),
    /** https, or http on a loopback host (tests and local development), without query or fragment. */
    issuer: z.string().refine((value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) && !url.search && !url.hash;
    }, 'must be an https URL (http only on a loopback host) without query or fragment'),
    clientId: z.string().min(1),
    /** Absent: a public client, protected by PKCE alone. */
    clientSecret: z.string().min(1).optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope token (RFC 6749 §3.3)')).default(() => ['openid', 'email', 'profile']),
    /** Link to an existing account whose email the provider reports verified; off, since it trusts the provider with every local account. */
    linkByVerifiedEmail: yesNo().default(false),
    /** Create an account on a first login. */
    provision: yesNo().default(true),
  })
  .refine((p) => p.scopes.includes('openid'), { message: 'must include openid', path: ['scopes'] });

/** https, or http on a loopback host (tests and local development), without query or fragment. */
const federatedUrl = (what: string) =>
  z.string().max(2000).refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) && !url.search && !url.hash;
  }, `must be an https URL (http only on a loopback host) without query or fragment${what}`);
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope token (RFC 6749 §3.3)');

/**
 * An issuer whose JWTs the `jwt-bearer` grant accepts (RFC 7523 §3, identity chaining, ID-JAG): its keys (inline
 * `jwks`, or `jwksUri`, fetched through the SSRF-checked fetch), which assertions (`id-jag`: `typ:
 * oauth-id-jag+jwt`; `jwt`: any other JWT authorization grant), how its `sub` becomes ours, and what it may open.
 */
const trustedIssuer = z
  .strictObject({
    /** The `iss` of its assertions, compared as a string. */
    issuer: z.string().min(1).max(2000),
    /** Its public keys, inline (`{ keys: [...] }`). Exactly one of `jwks` and `jwksUri`. */
    jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) }).optional(),
    /** Where its keys are published; fetched on first use, kept `crossDomain.jwksCacheSeconds`, fetched again on an unknown `kid`. */
    jwksUri: federatedUrl('').optional(),
    /** Which assertions of it are accepted. Default both. */
    assertions: z.array(oneOf(['id-jag', 'jwt'])).min(1).default(() => ['id-jag' as const, 'jwt' as const]),
    /**
     * How the assertion's subject becomes the token's `sub`: `email` (default: the local user whose e-mail is the
     * assertion's `email` claim), `linked` (the local user linked to this issuer's `sub`, as by an upstream login),
     * or `sub` (the issuer's `sub` as it is: for workloads, or an issuer whose subject names you own).
     */
    subject: oneOf(['email', 'linked', 'sub']).default('email'),
    /** Only these `sub` values are accepted. Default: any. */
    subjects: z.array(z.string().min(1).max(1000)).min(1).max(1000).optional(),
    /** Only these local clients may present its assertions (a public client only if listed). Default: any confidential client allowed the grant. */
    clients: z.array(z.string().min(1).max(1000)).min(1).max(1000).optional(),
    /** The most its assertions may open: tokens carry only these scopes. Default: what the client may hold. */
    scopes: z.array(scopeToken).max(200).optional(),
    /** Longest assertion lifetime (exp − iat, or exp − now) accepted. Default `crossDomain.assertionMaxTtlSeconds`. */
    maxAssertionLifetimeSeconds: seconds(30, 86_400).optional(),
  })
  .refine((entry) => (entry.jwks === undefined) !== (entry.jwksUri === undefined), { message: 'must have exactly one of jwks and jwksUri', path: ['jwks'] });

/** A peer authorization server this one issues JWT authorization grants and ID-JAGs for (identity chaining). */
const chainingPeer = z.strictObject({
  /** The peer's issuer: the grant's `aud`, and what `audience` (or `resource`) must name. */
  issuer: federatedUrl(''),
  /** Local client id → the client's id at the peer, for the ID-JAG's `client_id`. Default: the same id. */
  clients: z.record(z.string().min(1), z.string().min(1).max(1000)).default(() => ({})),
  /** The most a grant for this peer may carry. Default: what was asked (an ID-JAG) or the subject token's (a JWT grant). */
  scopes: z.array(scopeToken).max(200).optional(),
});

/** A trusted proxy: an IP address, an address/prefix CIDR, or one of proxy-addr's named ranges. */
const trustedProxy = z.string().refine((value) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
  const [address, prefix, extra] = value.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}, 'must be an IP address, a CIDR (address/prefix), loopback, linklocal or uniquelocal');

const configSchema = z
  .strictObject({
    /**
     * Public base URL: the `iss` of every token and the prefix of every endpoint (it may have a path). Default
     * `http://localhost:8787`, or `http://localhost:<port>` when only a port is given: right for a first local start;
     * a deployment sets its public https URL. Env MANDATE_ISSUER.
     */
    issuer: issuerUrl.default('http://localhost:8787'),
    /** Interface `serve` listens on. Default 127.0.0.1, so that a first start is not exposed to the network. Env MANDATE_HOST. */
    host: z.string().min(1, 'must be a host name or address').default('127.0.0.1'),
    /** TCP port `serve` listens on; 0 picks a free one. Default 8787 (unassigned, and close to the usual 8080). Env PORT. */
    port: wholeNumber(0, 65_535).default(8787),
    /**
     * Where the data lives: `sqlite:<path>` (embedded, one process or several on one machine) or
     * `postgres://user@host:port/db[?schema=s&pool=n]` (several instances). Default `sqlite:./.mandate/mandate.db`:
     * nothing to install for a first start. Env MANDATE_DATABASE_URL.
     */
    databaseUrl: z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<path> or postgres://…').default('sqlite:./.mandate/mandate.db'),
    /**
     * SQLite `synchronous` pragma. Default NORMAL: with WAL it survives a process crash and keeps token issuance fast;
     * FULL also survives a power loss, at a write-latency cost. Env MANDATE_SQLITE_SYNCHRONOUS.
     */
    sqliteSynchronous: oneOf(['NORMAL', 'FULL']).default('NORMAL'),
    /**
     * How long a SQLite write waits for another process's write lock before the request is answered 503 with
     * Retry-After (SQLITE_BUSY). Default 5000 ms: longer than any write Mandate holds, short enough that a client
     * hears of a stuck lock. The wait blocks this process (node:sqlite is synchronous). Env MANDATE_SQLITE_BUSY_TIMEOUT_MS.
     */
    sqliteBusyTimeoutMs: wholeNumber(0, 60_000, 'milliseconds').default(5000),
    keys: group({
      /**
       * Algorithm of newly generated signing keys. Default ES256: the fastest to sign and widely supported; RS256 is
       * what RFC 9068 §4 requires resource servers to accept; EdDSA for Ed25519. Env MANDATE_SIGNING_ALG.
       */
      algorithm: oneOf(SIGNING_ALGORITHMS).default('ES256'),
      /**
       * Key-encryption key (32 bytes, base64url) that encrypts signing keys at rest. Default: none, and a random one
       * is generated into `kekFile` on first start. Several instances on one database need the same KEK. Env MANDATE_KEK.
       */
      kek: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url-encoded (43 characters)').optional(),
      /** Where the generated KEK is kept (mode 0600) when `kek` is not set. Default `./.mandate/kek`, next to the SQLite file. Env MANDATE_KEK_FILE. */
      kekFile: z.string().min(1).default('./.mandate/kek'),
      /** How often a running server re-reads the key set, so that a `mandate keys rotate` elsewhere takes effect. Default 30 s. */
      reloadIntervalSeconds: seconds(1, 3600).default(30),
      /**
       * SR-08: how long a rotated-in key is published before any instance signs with it. It must cover the reload
       * interval plus how long resource servers cache the JWKS (we send max-age ≤ 300 s), so that none meets an
       * unknown `kid`. Default 600 (10 min); 0 signs at once (a compromised key). Per rotation: `keys rotate
       * --publish-ahead`, `publish_ahead_seconds`. Env MANDATE_KEY_PUBLISH_AHEAD.
       */
      publishAheadSeconds: seconds(0, 604_800).default(600),
      /**
       * Rotates the signing key on a schedule: once the newest key is this old, a running server makes a new one,
       * published ahead by `publishAheadSeconds` as a manual rotation is; several instances make one between them.
       * Default: none (rotate with `mandate keys rotate`). At least an hour. Env MANDATE_KEY_ROTATION_INTERVAL.
       */
      rotationIntervalSeconds: seconds(3600, 31_536_000).optional(),
      /**
       * An external signer (a KMS, an HSM) that holds the private signing keys: `module`, a path (relative to the
       * working directory) or package name exporting `createKeySigner(options)`, and the `options` it is given
       * (docs/deployment.md). New keys are made there; keys already in the database keep signing until rotated out.
       * Default: none, the keys are kept in the database encrypted under the KEK. Env MANDATE_KEYS_EXTERNAL_SIGNER (JSON).
       */
      externalSigner: z.strictObject({ module: z.string().min(1).max(2000), options: z.record(z.string(), z.unknown()).default({}) }).optional(),
    }),
    tokens: group({
      /** Default access-token lifetime; agents may set their own. Default 900 (15 min): short, as OAuth 2.1 and MCP recommend. Env MANDATE_ACCESS_TOKEN_TTL. */
      accessTokenTtlSeconds: seconds(60, 86_400).default(900),
      /** Ceiling on any access-token lifetime; a retired signing key stays in the JWKS this long. Default 86400 (1 day). */
      maxAccessTokenTtlSeconds: seconds(60, 604_800).default(86_400),
      /** Allowed clock difference when checking `exp`/`iat` of assertions presented to us. Default 60: hosts drift by seconds, not minutes. */
      clockSkewSeconds: seconds(0, 600).default(60),
      /** Longest lifetime accepted for a `private_key_jwt` client assertion (exp − now). Default 300: assertions are single-use and short. */
      clientAssertionMaxTtlSeconds: seconds(30, 3600).default(300),
    }),
    agents: group({
      /**
       * After `rotate-secret`, the previous secret keeps working this long so that deployments can roll over; 0 cuts
       * it at once (after a leak). `--grace` (CLI) and `grace_seconds` (admin API) set it per rotation. Default 86400
       * (1 day). Env MANDATE_SECRET_ROTATION_GRACE.
       */
      secretRotationGraceSeconds: seconds(0, 2_592_000).default(86_400),
    }),
    resources: group({
      /**
       * After `resource rotate-key`, the previous API key keeps authenticating introspection this long, so that the
       * resource server can be given the new key without refused calls; 0 cuts it at once. `--grace` / `grace_seconds`
       * set it per rotation. Default 86400 (1 day), like the secret grace. Env MANDATE_API_KEY_ROTATION_GRACE.
       */
      apiKeyRotationGraceSeconds: seconds(0, 2_592_000).default(86_400),
    }),
    users: group({
      /** Lifetime of a signed-in browser session, absolute (not sliding). Default 43200: a working day, then log in again. */
      sessionTtlSeconds: seconds(300, 2_592_000).default(43_200),
      /**
       * A signed-in session not used for this long ends, whatever its absolute lifetime left (OWASP session
       * management: an idle timeout beside the absolute one). Default 1800 (30 min), as Keycloak's SSO idle
       * timeout: a browser left alone is signed out soon, one in use keeps its working day. Env MANDATE_SESSION_IDLE_TIMEOUT.
       */
      sessionIdleTimeoutSeconds: seconds(60, 2_592_000).default(1800),
      /**
       * Lifetime of a session before anyone logs in: one is started only by a passkey or upstream login, for its
       * WebAuthn challenge or `state` (the login page's CSRF token needs none). Default 1800.
       */
      anonymousSessionTtlSeconds: seconds(60, 86_400).default(1800),
      /**
       * New anonymous sessions (a passkey or upstream login starting) per minute per client address; past it, 429
       * (SR-13: nothing a stranger sends may write rows without bound). In memory, per instance; 0 disables. Default 30.
       */
      anonymousSessionsPerIpPerMinute: wholeNumber(0, 1_000_000).default(30),
      /** Failed logins per account before each further failure locks the account (exponential backoff). Default 5. */
      accountFreeFailures: wholeNumber(1, 100).default(5),
      /** Failed logins per client address before the address is locked the same way. Default 30: higher, since NAT is shared. */
      ipFreeFailures: wholeNumber(1, 10_000).default(30),
      /** First lock after the free failures, doubled for each further failure up to `maxLockSeconds`. Default 2. */
      baseLockSeconds: seconds(1, 3600).default(2),
      /** Longest lock. Default 900 (15 min): slows guessing to a crawl without locking a user out for the day. */
      maxLockSeconds: seconds(1, 86_400).default(900),
      /**
       * Login attempts (password and passkey) per minute per client address, checked or not: a flood ceiling beside
       * the throttle, which admits an attempt on any account a locked address has not guessed (SR-06), so that the
       * scrypt work one address can cause stays bounded. In memory, per instance; 0 disables. Default 120.
       */
      loginAttemptsPerIpPerMinute: wholeNumber(0, 1_000_000).default(120),
      /** A failure counter resets when its last failure is older than this. Default 3600. */
      failureWindowSeconds: seconds(60, 86_400).default(3600),
      /**
       * An admin password reset (`mandate user set-password`, `PATCH /admin/v1/users/{id}` with `password`) also
       * revokes every grant the user gave, so their refresh tokens and the access tokens derived from them stop at
       * once (their sessions always end). Default true: a reset is usually made because the password may be known
       * to someone else, who may also hold the tokens it obtained. Env MANDATE_PASSWORD_RESET_REVOKES_GRANTS.
       */
      passwordResetRevokesGrants: yesNo().default(true),
      /**
       * An admin password reset also removes the user's passkeys (SR-15): whoever had the account may have added
       * one, which would outlive the new password. Default true; turn it off only where passkeys are enrolled by
       * other means you trust. Env MANDATE_PASSWORD_RESET_REVOKES_PASSKEYS.
       */
      passwordResetRevokesPasskeys: yesNo().default(true),
      /**
       * Adding a passkey needs a login at most this long ago (SR-15), else the account page asks to sign in again:
       * a borrowed or stolen session cookie must not plant a permanent way in. Default 300 (5 minutes). Env
       * MANDATE_PASSKEY_REGISTRATION_MAX_AUTH_AGE.
       */
      passkeyRegistrationMaxAuthAgeSeconds: seconds(0, 86_400).default(300),
      /**
       * Self-signup: anyone may create an account (email, password) at `/signup` and is signed in; such accounts get
       * no role, and their email is unverified. Default false: an operator creates accounts (CLI, admin API,
       * console), or upstream login does. Env MANDATE_SELF_SIGNUP.
       */
      selfSignup: yesNo().default(false),
      /**
       * WebAuthn relying-party id: a registrable suffix of the issuer's host. Default: the issuer's host name.
       * Passkeys are bound to it; changing it later orphans every registered passkey.
       */
      webauthnRpId: z.string().regex(/^[a-z0-9.-]+$/, 'must be a host name').optional(),
    }),
    authorization: group({
      /** Authorization-code lifetime. Default 60: OAuth 2.1 §4.1.2 asks for ≤ 10 minutes, and a redirect takes seconds. */
      codeTtlSeconds: seconds(10, 600).default(60),
      /** A refresh token not used for this long expires (each use rotates it and restarts the clock). Default 2592000 (30 days). */
      refreshTokenIdleTtlSeconds: seconds(300, 31_536_000).default(2_592_000),
      /** A refresh-token family (one user grant) ends this long after consent, however it is used. Default 7776000 (90 days). */
      refreshTokenFamilyTtlSeconds: seconds(300, 31_536_000).default(7_776_000),
      /** ID-token lifetime. Default 3600: ID tokens say who logged in; they authorise nothing by themselves. */
      idTokenTtlSeconds: seconds(60, 86_400).default(3600),
      /**
       * Lifetime of a pushed authorization request (RFC 9126 `expires_in`): the `request_uri` must reach the
       * authorization endpoint within it, and is used once. Default 60: a client redirects the browser right after
       * pushing (RFC 9126 §2.2 suggests 5 to 600 seconds). Env MANDATE_PAR_TTL.
       */
      pushedRequestTtlSeconds: seconds(5, 600).default(60),
      /**
       * Every authorization request must be pushed first (RFC 9126 §5 `require_pushed_authorization_requests`): a
       * plain one is refused with `invalid_request`. A client can also be required to alone (its
       * `require_pushed_authorization_requests`). Default false. Env MANDATE_REQUIRE_PAR.
       */
      requirePushedAuthorizationRequests: yesNo().default(false),
    }),
    /**
     * The FAPI 2.0 Security Profile mode (docs/security.md): pushed authorization requests required, PKCE S256,
     * DPoP on every token request (sender-constrained tokens), `private_key_jwt` the only client authentication (no
     * client secrets, no public clients), `redirect_uri` required in the pushed request, codes living at most 60 s,
     * and refresh tokens not rotated (they live as long as their grant). Default false. Env MANDATE_FAPI.
     */
    fapi2SecurityProfile: yesNo().default(false),
    delegation: group({
      /** Deepest `act` nesting a token exchange may produce (user → agent → sub-agent … counts actors). Default 5. */
      maxChainDepth: wholeNumber(1, 20).default(5),
      /**
       * Token exchange without `actor_token` (RFC 8693 impersonation: a token for the subject, no new `act`). Default
       * off: every exchange must name its actor, so the delegation chain always records who acts. Env MANDATE_ALLOW_IMPERSONATION.
       */
      allowImpersonation: yesNo().default(false),
    }),
    transactionTokens: group({
      /**
       * The trust domain of the Transaction Token Service (draft-ietf-oauth-transaction-tokens): the `aud` of every
       * Txn-Token, and the `audience` a Txn-Token request must name. Default: the issuer, the one name every workload
       * of this server already knows. Env MANDATE_TXN_TRUST_DOMAIN.
       */
      trustDomain: z.string().trim().min(1, 'must be a name').max(255).optional(),
      /**
       * Txn-Token lifetime; never beyond the subject token's (or, for a replacement, the replaced token's) expiry.
       * Default 300 (5 min): the draft asks for "minutes or less", since a Txn-Token is a bearer token with no
       * refresh. Env MANDATE_TXN_TOKEN_TTL.
       */
      ttlSeconds: seconds(10, 3600).default(300),
    }),
    dpop: group({
      /**
       * Require a server nonce in every DPoP proof at the token and userinfo endpoints (RFC 9449 §8): a proof without
       * one, or with an old one, gets `use_dpop_nonce` and a `DPoP-Nonce` to retry with. Nonces are derived from the
       * KEK and the time, so every instance sharing the KEK accepts them, with nothing stored. Default false: the
       * proof's `iat` window and the shared `jti` replay check already bound a proof's use, and a nonce costs each
       * client one extra round trip. Env MANDATE_DPOP_NONCE.
       */
      nonceRequired: yesNo().default(false),
      /** How long a nonce is handed out before the next one; one stays accepted for up to twice this. Default 300. */
      noncePeriodSeconds: seconds(10, 86_400).default(300),
      /** Oldest DPoP proof accepted, from its `iat`; its `jti` is remembered this long. Default 300: proofs are made per request. */
      proofMaxAgeSeconds: seconds(10, 3600).default(300),
    }),
    /**
     * Upstream OpenID providers users may log in with (Google, or any issuer with OIDC discovery), shown as buttons on
     * the login page: `id`, `name`, `issuer`, `clientId`, optional `clientSecret`, `scopes` (default openid email
     * profile), `linkByVerifiedEmail` (default false), `provision` (default true). The redirect URI to register with
     * the provider is `<issuer>/login/upstream/<id>/callback`. Default none. Env MANDATE_UPSTREAM_PROVIDERS (a JSON array).
     */
    upstreamProviders: z
      .array(upstreamProvider)
      .max(20, 'must list at most 20 providers')
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'must have unique provider ids')
      .default(() => []),
    /**
     * Cross-domain trust (docs/cross-domain.md): identity chaining (draft-ietf-oauth-identity-chaining), ID-JAG
     * (draft-ietf-oauth-identity-assertion-authz-grant) and the RFC 7523 `jwt-bearer` grant. Configuration rather
     * than admin records: a trust anchor is part of the deployment, reviewed with it and the same on every instance.
     */
    crossDomain: group({
      /** Issuers whose assertions the `jwt-bearer` grant accepts; the grant is offered only when one is listed. Default none. Env MANDATE_TRUSTED_ISSUERS (a JSON array). */
      trustedIssuers: z
        .array(trustedIssuer)
        .max(50)
        .refine((list) => new Set(list.map((entry) => entry.issuer)).size === list.length, 'must list each issuer once')
        .default(() => []),
      /** Peer authorization servers a token exchange may issue a JWT authorization grant or an ID-JAG for. Default none. Env MANDATE_IDENTITY_CHAINING_PEERS (a JSON array). */
      peers: z
        .array(chainingPeer)
        .max(50)
        .refine((list) => new Set(list.map((entry) => entry.issuer)).size === list.length, 'must list each issuer once')
        .default(() => []),
      /** Longest lifetime of an assertion presented to the `jwt-bearer` grant (exp − iat). Default 600: grants are short-lived and single-use. */
      assertionMaxTtlSeconds: seconds(30, 86_400).default(600),
      /** Lifetime of the JWT authorization grants and ID-JAGs this server issues. Default 300: enough to reach the peer, short if it leaks. */
      grantTtlSeconds: seconds(10, 3600).default(300),
      /** How long a trusted issuer's `jwksUri` keys are kept before they are fetched again. Default 300. */
      jwksCacheSeconds: seconds(0, 86_400).default(300),
      /**
       * How old a trusted issuer's `jwksUri` keys may be (since they were last fetched) and still verify assertions
       * while fetching them again fails. Default 3600: an hour's outage at the issuer does not stop sign-ins, and a
       * key the issuer withdrew is not honoured beyond that by blocking our fetch. Env MANDATE_TRUSTED_ISSUERS_JWKS_MAX_STALE.
       */
      jwksMaxStaleSeconds: seconds(0, 604_800).default(3600),
      /** Development only: fetch an `http://localhost` `jwksUri` from loopback. Default false. Env MANDATE_TRUSTED_ISSUERS_ALLOW_HTTP_LOCALHOST. */
      allowHttpLocalhost: yesNo().default(false),
    }),
    registration: group({
      /**
       * Dynamic client registration (RFC 7591) at `<issuer>/register`: `open` (anyone may register a client, as MCP
       * hosts expect; every client still needs PKCE and the user's consent), `initial-access-token` (a registration
       * must present one of `initialAccessTokenHashes` as a Bearer token), or `off` (no registration endpoint, and
       * `registration_endpoint` leaves the metadata). Default open. Env MANDATE_REGISTRATION.
       */
      mode: oneOf(['open', 'initial-access-token', 'off']).default('open'),
      /**
       * Hex SHA-256 of each initial access token accepted in `initial-access-token` mode (the tokens themselves are
       * never configured: `printf %s "$TOKEN" | sha256sum`). Default none. Env MANDATE_REGISTRATION_TOKEN_HASHES (comma-separated).
       */
      initialAccessTokenHashes: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256')).max(100).default(() => []),
      /**
       * Issuers whose software statements (RFC 7591 §2.3: a signed JWT of client metadata) registration accepts, each
       * `{ issuer, jwks }` with the public keys it signs with. A statement's signature, `iss`, `exp` and `nbf` are
       * verified and its metadata takes precedence over the request's; a statement from another issuer is refused.
       * Default none (a statement is then refused as unapproved). Env MANDATE_REGISTRATION_SOFTWARE_STATEMENT_ISSUERS (a JSON array).
       */
      softwareStatementIssuers: z
        .array(z.strictObject({ issuer: z.string().min(1).max(2000), jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) }) }))
        .max(20)
        .default(() => []),
      /** Registration requests per minute per client address; 0 disables. Default 20: a host registers once per server. Env MANDATE_REGISTRATION_RATE_LIMIT. */
      perIpPerMinute: wholeNumber(0, 1_000_000).default(20),
      /**
       * A dynamically registered client nobody holds a grant for (never used, or all its grants ended) is deleted
       * this long after it registered. Default 86400 (1 day): a host registers and signs in within minutes; open
       * registration must not let unused clients pile up. Env MANDATE_REGISTRATION_UNUSED_TTL.
       */
      unusedClientTtlSeconds: seconds(300, 31_536_000).default(86_400),
      /**
       * Self-registered clients (RFC 7591, client metadata documents) may ask for the device authorization grant.
       * Default false: RFC 8628 §5.4 (remote phishing): a device code from an unvetted client, sent to someone with
       * a plausible story, gets a person to approve an attacker's device on a trusted page; operators grant it to
       * the clients they vouch for. Env MANDATE_REGISTRATION_DEVICE_GRANT.
       */
      allowDeviceGrant: yesNo().default(false),
      /**
       * A dynamically registered client whose name looks like the name of a client an operator created or of a
       * resource (the same letters, or look-alikes: "Сlaude" with a Cyrillic С, "CIaude", fullwidth letters), or
       * mixes Latin, Cyrillic and Greek letters: `warn` (registered; the consent page warns that it may be an
       * imitation, naming what it looks like) or `refuse` (the registration, or an RFC 7592 update, is refused with
       * `invalid_client_metadata`). Default warn. Env MANDATE_REGISTRATION_LOOK_ALIKE_NAMES.
       */
      lookAlikeNames: oneOf(['warn', 'refuse']).default('warn'),
    }),
    clientMetadataDocuments: group({
      /**
       * Accept an https URL as `client_id` and fetch its Client ID Metadata Document (MCP 2025-11-25). The fetch
       * connects only to public addresses, follows no redirect, reads at most 5 KiB. Default true. Env MANDATE_CLIENT_METADATA_DOCUMENTS.
       */
      enabled: yesNo().default(true),
      /**
       * Development only: also accept `http://localhost:<port>/…` (and 127.0.0.1, [::1]) client ids, fetched from
       * the loopback interface. Never on a deployed server: any local service could then define clients. Default false.
       * Env MANDATE_CLIENT_METADATA_ALLOW_HTTP_LOCALHOST.
       */
      allowHttpLocalhost: yesNo().default(false),
      /** The whole fetch (connect, answer, body) must finish within this. Default 3000 ms: the user waits on it. Env MANDATE_CLIENT_METADATA_TIMEOUT_MS. */
      timeoutMs: wholeNumber(100, 30_000, 'milliseconds').default(3000),
      /** A document is kept at least this long, whatever its Cache-Control says (no-store included). Default 60. */
      minCacheSeconds: seconds(0, 86_400).default(60),
      /** And at most this long, however long its Cache-Control allows. Default 86400 (1 day). */
      maxCacheSeconds: seconds(0, 604_800).default(86_400),
    }),
    /** RFC 8628 device authorization grant (issue 13 item 7): headless agents, a person approving on another device. */
    device: group({
      /**
       * Lifetime of a device authorization request (`expires_in`): the person has this long to enter the code and
       * decide. Default 600 (10 min), as RFC 8628's examples: time to pick up a phone and sign in, short enough that a
       * code read over a shoulder is soon worthless. Env MANDATE_DEVICE_CODE_TTL.
       */
      codeTtlSeconds: seconds(60, 3600).default(600),
      /** Minimum seconds between token-endpoint polls (`interval`); each `slow_down` adds 5. Default 5 (RFC 8628 §3.2). Env MANDATE_DEVICE_POLL_INTERVAL. */
      pollIntervalSeconds: seconds(1, 60).default(5),
      /**
       * User codes entered on the verification page per minute per client address, found or not (RFC 8628 §5.1:
       * the short code is safe only if guessing it is slow). In memory, per instance; 0 disables. Default 10.
       */
      userCodeAttemptsPerIpPerMinute: wholeNumber(0, 10_000).default(10),
      /**
       * Wrong user codes per minute from all addresses together, so that guessing from many addresses is slow too;
       * past it, every address waits for the minute to end. In memory, per instance; 0 disables. Default 120.
       */
      userCodeFailuresPerMinute: wholeNumber(0, 1_000_000).default(120),
      /** Device authorization requests per minute per client address (each writes a row). 0 disables. Default 60. */
      requestsPerIpPerMinute: wholeNumber(0, 1_000_000).default(60),
    }),
    rateLimit: group({
      /** Token-endpoint requests per minute per client (after authentication); 0 disables. Default 600: 10/s per client. Env MANDATE_RATE_LIMIT_CLIENT. */
      tokenPerClientPerMinute: wholeNumber(0, Number.MAX_SAFE_INTEGER).default(600),
      /** Token-endpoint requests per minute per address, authenticated or not; 0 disables. Default 1200. Env MANDATE_RATE_LIMIT_IP. */
      tokenPerIpPerMinute: wholeNumber(0, Number.MAX_SAFE_INTEGER).default(1200),
      /**
       * Count token-endpoint requests per clock minute across every instance on the database (synced once a
       * second), so that N instances allow each client and address its rate once, not N times; each instance may
       * still let one second of its own traffic past the limit. Default false: one instance needs no shared counts,
       * and they cost one database write per second under traffic. Env MANDATE_RATE_LIMIT_SHARED.
       */
      shared: yesNo().default(false),
    }),
    http: group({
      /** Largest request body accepted, in bytes; larger bodies get 413 before they are parsed. Default 65536: OAuth requests are small. */
      bodyLimitBytes: wholeNumber(1024, 10_485_760).default(65_536),
      /**
       * Which peers may say, in `X-Forwarded-For`, whom they forward for: `false` (none: the client address is the
       * socket's), a list of the proxies' addresses or CIDRs (`['10.0.0.0/8', '::1']`; also `loopback`, `linklocal`,
       * `uniquelocal`), or the number of proxies in front (hops). The client address is then the right-most address
       * of the chain that is not a trusted proxy: what every per-address rate limit, the login throttle and the
       * audit's `ip` use. Never "trust everything": the left-most entries are the client's to write (SR-09). A hop
       * count trusts whoever connects, so use it only when nothing reaches the server except through the proxies.
       * Default false. Env MANDATE_TRUST_PROXY (`10.0.0.0/8,::1`, or `1`).
       */
      trustProxy: z
        .union([z.literal(false), wholeNumber(1, 10), z.array(trustedProxy).min(1).max(100)], {
          error: 'must be false, a number of proxy hops (1–10), or a list of proxy addresses or CIDRs',
        })
        .default(false),
    }),
    /** pino level of the server log; secrets and tokens are never logged at any level. Default info. Env MANDATE_LOG_LEVEL. */
    logLevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
    /**
     * One JSON log line per answered request (request id, method, route, path without its query, status, duration,
     * client address) at level info. Default false: on the token hot path a log line costs more than the token
     * logic, and a proxy in front usually keeps an access log already. Env MANDATE_LOG_REQUESTS.
     */
    logRequests: yesNo().default(false),
    retention: group({
      /**
       * Audit rows older than this many days are deleted (at start and every ten minutes), leaving a checkpoint from
       * which `mandate audit verify` still checks the chain; rows are verified before they are deleted, and a broken
       * chain is never pruned. Default: none, every row is kept (the trail grows ~600 bytes per token on
       * PostgreSQL). Env MANDATE_AUDIT_RETENTION_DAYS.
       */
      auditDays: wholeNumber(1, 36_500).optional(),
    }),
    /**
     * OpenTelemetry traces (issue 13 item 5): a span per request (method, route, status, the authenticated client)
     * with a child span per store call, exported as OTLP/HTTP JSON to `<otlpEndpoint>/v1/traces`. Off unless an
     * endpoint is set; off, no OpenTelemetry package is even loaded. Spans never carry tokens, secrets, headers or
     * query strings.
     */
    telemetry: group({
      /**
       * OTLP/HTTP base URL of a collector (e.g. `http://otel-collector:4318`). Default: none (no traces). Env
       * MANDATE_OTEL_ENDPOINT, or the standard OTEL_EXPORTER_OTLP_ENDPOINT (Mandate's wins when both are set).
       */
      otlpEndpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
      /** `service.name` of the spans. Default mandate. Env OTEL_SERVICE_NAME. */
      serviceName: z.string().min(1, 'must be a name').max(200).default('mandate'),
    }),
    metrics: group({
      /**
       * Port of the Prometheus endpoint (`GET /metrics`), served by a listener of its own so that it is never
       * reachable through the public issuer URL by accident. Default: none (no metrics listener). Env MANDATE_METRICS_PORT.
       */
      port: wholeNumber(0, 65_535).optional(),
      /**
       * Interface of the metrics listener. Default 127.0.0.1: a scraper on the same host (or a sidecar); set an
       * internal address (`0.0.0.0` inside a container whose port is not published) to scrape from elsewhere. Env MANDATE_METRICS_HOST.
       */
      host: z.string().min(1, 'must be a host name or address').default('127.0.0.1'),
    }),
    /**
     * On SIGTERM or SIGINT the server stops accepting connections, answers the requests it has (and those already
     * on open connections, which it then closes), commits the pending audit rows and exits. Requests still running
     * after this many seconds are cut off. Default 10: below the 30 s a Kubernetes pod gets, and a token request
     * takes milliseconds. Env MANDATE_SHUTDOWN_GRACE.
     */
    shutdownGraceSeconds: seconds(0, 600).default(10),
    /**
     * How often a revocation-event stream (GET /revocation-events) reads the shared event log for events another
     * instance wrote, in milliseconds; events this instance writes wake its streams at once. Default 1000: a
     * resource learns of a revocation made on another instance within about a second. Env
     * MANDATE_REVOCATION_EVENTS_POLL_MS.
     */
    revocationEventsPollMs: z.number().int().min(50).max(60_000).default(1000),
    /**
     * Development only: accept `http://localhost` (127.0.0.1, [::1]) revocation webhook URLs, delivered to loopback
     * addresses only; otherwise a webhook must be https and is delivered to public addresses only (SSRF). Default
     * false. Env MANDATE_REVOCATION_WEBHOOK_ALLOW_HTTP_LOCALHOST.
     */
    revocationWebhookAllowHttpLocalhost: yesNo().default(false),
  })
  .refine((c) => c.tokens.accessTokenTtlSeconds <= c.tokens.maxAccessTokenTtlSeconds, {
    message: 'must not exceed tokens.maxAccessTokenTtlSeconds',
    path: ['tokens', 'accessTokenTtlSeconds'],
  })
  .refine((c) => c.authorization.idTokenTtlSeconds <= c.tokens.maxAccessTokenTtlSeconds, {
    message: 'must not exceed tokens.maxAccessTokenTtlSeconds (the key-rotation overlap)',
    path: ['authorization', 'idTokenTtlSeconds'],
  })
  .refine((c) => c.authorization.refreshTokenIdleTtlSeconds <= c.authorization.refreshTokenFamilyTtlSeconds, {
    message: 'must not exceed authorization.refreshTokenFamilyTtlSeconds',
    path: ['authorization', 'refreshTokenIdleTtlSeconds'],
  })
  .refine((c) => c.clientMetadataDocuments.minCacheSeconds <= c.clientMetadataDocuments.maxCacheSeconds, {
    message: 'must not exceed clientMetadataDocuments.maxCacheSeconds',
    path: ['clientMetadataDocuments', 'minCacheSeconds'],
  })
  .refine((c) => c.registration.mode !== 'initial-access-token' || c.registration.initialAccessTokenHashes.length > 0, {
    message: 'must list at least one token hash when registration.mode is initial-access-token',
    path: ['registration', 'initialAccessTokenHashes'],
  })
  .refine((c) => !c.fapi2SecurityProfile || c.authorization.codeTtlSeconds <= 60, {
    message: 'must be at most 60 in the FAPI 2.0 mode (FAPI 2.0 Security Profile §5.3.2.1)',
    path: ['authorization', 'codeTtlSeconds'],
  })
  .refine((c) => !c.fapi2SecurityProfile || c.authorization.pushedRequestTtlSeconds < 600, {
    message: 'must be less than 600 in the FAPI 2.0 mode',
    path: ['authorization', 'pushedRequestTtlSeconds'],
  })
  .refine((c) => c.users.baseLockSeconds <= c.users.maxLockSeconds, {
    message: 'must not exceed users.maxLockSeconds',
    path: ['users', 'baseLockSeconds'],
  });

type DeepReadonly<T> = T extends readonly (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The parsed, frozen configuration. */
export type MandateConfig = DeepReadonly<z.output<typeof configSchema>>;
/** What an embedder, the environment or the CLI may set: any part of the configuration, the rest defaulted. */
export type ConfigOverrides = z.input<typeof configSchema>;
export type UpstreamProviderConfig = MandateConfig['upstreamProviders'][number];
export type TrustedIssuerConfig = MandateConfig['crossDomain']['trustedIssuers'][number];
export type ChainingPeerConfig = MandateConfig['crossDomain']['peers'][number];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base`, group by group; an undefined value leaves the option as it was. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(value) && isPlainObject(current) ? merge(current, value) : value;
  }
  return out;
}

/** The file each layer read by `configFromFile` came from, for error messages. */
const fileSources = new WeakMap<object, string>();

/** The environment variable that set each path, for overrides that came from `configFromEnvironment`. */
const environmentSources = new WeakMap<object, ReadonlyMap<string, string>>();

function valueAt(object: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((at, key) => (typeof at === 'object' && at !== null ? (at as Record<PropertyKey, unknown>)[key] : undefined), object);
}

/**
 * Parses the defaults with `overrides` applied in order (later ones win), once, and freezes the result. Throws a
 * ConfigError naming each invalid option's path and what it must be, and the environment variable it came from.
 */
export function resolveConfig(...overrides: ConfigOverrides[]): MandateConfig {
  const merged = overrides.reduce<Record<string, unknown>>((acc, o) => merge(acc, o as Record<string, unknown>), {});
  const parsed = configSchema.safeParse(merged);
  if (parsed.success) return deepFreeze(parsed.data);
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${path ? `${path}.` : ''}${key} is not a configuration option`).join('; ');
    const source = overrides.findLast((o) => valueAt(o, issue.path) !== undefined);
    // The variable that set this option, or the list or group it is part of (`http.trustProxy.0`).
    const variable = source && [...(environmentSources.get(source) ?? [])].find(([set]) => path === set || path.startsWith(`${set}.`))?.[1];
    const origin = variable ?? (source && fileSources.get(source));
    return `${path || 'the configuration'} ${issue.message}${origin ? ` (from ${origin})` : ''}`;
  });
  throw new ConfigError(problems.join('; '));
}

/** The configuration with nothing set. */
export const defaults: MandateConfig = resolveConfig();

const text = (value: string) => value;
function wholeNumberText(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
}
function booleanText(value: string, name: string): boolean {
  if (value !== 'true' && value !== 'false') throw new ConfigError(`${name} must be true or false, got "${value}"`);
  return value === 'true';
}
/** MANDATE_TRUST_PROXY: `false`, a hop count, or comma-separated proxy addresses or CIDRs; never `true` (SR-09). */
function trustProxyText(value: string, name: string): false | number | string[] {
  if (value === 'false') return false;
  if (value === 'true') {
    throw new ConfigError(`${name}=true would trust a client-written X-Forwarded-For; give the proxies' addresses or CIDRs (10.0.0.0/8,::1) or their number (1)`);
  }
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((entry) => entry.trim());
}
/** A comma-separated list. */
function listText(value: string): string[] {
  return value.split(',').map((entry) => entry.trim()).filter(Boolean);
}
function jsonText(value: string, name: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(`${name} must be JSON`);
  }
}

/** Every environment variable Mandate reads, the option it sets, and how its text becomes a value. The README lists them. */
export const ENVIRONMENT_VARIABLES: readonly { name: string; path: string; parse: (value: string, name: string) => unknown }[] = [
  { name: 'MANDATE_ISSUER', path: 'issuer', parse: text },
  { name: 'MANDATE_HOST', path: 'host', parse: text },
  { name: 'PORT', path: 'port', parse: wholeNumberText },
  { name: 'MANDATE_DATABASE_URL', path: 'databaseUrl', parse: text },
  { name: 'MANDATE_SQLITE_SYNCHRONOUS', path: 'sqliteSynchronous', parse: text },
  { name: 'MANDATE_SQLITE_BUSY_TIMEOUT_MS', path: 'sqliteBusyTimeoutMs', parse: wholeNumberText },
  { name: 'MANDATE_SIGNING_ALG', path: 'keys.algorithm', parse: text },
  { name: 'MANDATE_KEY_PUBLISH_AHEAD', path: 'keys.publishAheadSeconds', parse: wholeNumberText },
  { name: 'MANDATE_KEK', path: 'keys.kek', parse: text },
  { name: 'MANDATE_KEK_FILE', path: 'keys.kekFile', parse: text },
  { name: 'MANDATE_KEY_ROTATION_INTERVAL', path: 'keys.rotationIntervalSeconds', parse: wholeNumberText },
  { name: 'MANDATE_KEYS_EXTERNAL_SIGNER', path: 'keys.externalSigner', parse: jsonText },
  { name: 'MANDATE_ACCESS_TOKEN_TTL', path: 'tokens.accessTokenTtlSeconds', parse: wholeNumberText },
  { name: 'MANDATE_DEVICE_CODE_TTL', path: 'device.codeTtlSeconds', parse: wholeNumberText },
  { name: 'MANDATE_DEVICE_POLL_INTERVAL', path: 'device.pollIntervalSeconds', parse: wholeNumberText },
  { name: 'MANDATE_RATE_LIMIT_CLIENT', path: 'rateLimit.tokenPerClientPerMinute', parse: wholeNumberText },
  { name: 'MANDATE_RATE_LIMIT_IP', path: 'rateLimit.tokenPerIpPerMinute', parse: wholeNumberText },
  { name: 'MANDATE_RATE_LIMIT_SHARED', path: 'rateLimit.shared', parse: booleanText },
  { name: 'MANDATE_ALLOW_IMPERSONATION', path: 'delegation.allowImpersonation', parse: booleanText },
  { name: 'MANDATE_TXN_TRUST_DOMAIN', path: 'transactionTokens.trustDomain', parse: text },
  { name: 'MANDATE_TXN_TOKEN_TTL', path: 'transactionTokens.ttlSeconds', parse: wholeNumberText },
  { name: 'MANDATE_DPOP_NONCE', path: 'dpop.nonceRequired', parse: booleanText },
  { name: 'MANDATE_SESSION_IDLE_TIMEOUT', path: 'users.sessionIdleTimeoutSeconds', parse: wholeNumberText },
  { name: 'MANDATE_PASSWORD_RESET_REVOKES_GRANTS', path: 'users.passwordResetRevokesGrants', parse: booleanText },
  { name: 'MANDATE_PASSWORD_RESET_REVOKES_PASSKEYS', path: 'users.passwordResetRevokesPasskeys', parse: booleanText },
  { name: 'MANDATE_PASSKEY_REGISTRATION_MAX_AUTH_AGE', path: 'users.passkeyRegistrationMaxAuthAgeSeconds', parse: wholeNumberText },
  { name: 'MANDATE_SELF_SIGNUP', path: 'users.selfSignup', parse: booleanText },
  { name: 'MANDATE_SECRET_ROTATION_GRACE', path: 'agents.secretRotationGraceSeconds', parse: wholeNumberText },
  { name: 'MANDATE_API_KEY_ROTATION_GRACE', path: 'resources.apiKeyRotationGraceSeconds', parse: wholeNumberText },
  { name: 'MANDATE_UPSTREAM_PROVIDERS', path: 'upstreamProviders', parse: jsonText },
  { name: 'MANDATE_TRUST_PROXY', path: 'http.trustProxy', parse: trustProxyText },
  { name: 'MANDATE_REGISTRATION', path: 'registration.mode', parse: text },
  { name: 'MANDATE_REGISTRATION_TOKEN_HASHES', path: 'registration.initialAccessTokenHashes', parse: listText },
  { name: 'MANDATE_REGISTRATION_SOFTWARE_STATEMENT_ISSUERS', path: 'registration.softwareStatementIssuers', parse: jsonText },
  { name: 'MANDATE_TRUSTED_ISSUERS', path: 'crossDomain.trustedIssuers', parse: jsonText },
  { name: 'MANDATE_IDENTITY_CHAINING_PEERS', path: 'crossDomain.peers', parse: jsonText },
  { name: 'MANDATE_TRUSTED_ISSUERS_JWKS_MAX_STALE', path: 'crossDomain.jwksMaxStaleSeconds', parse: wholeNumberText },
  { name: 'MANDATE_TRUSTED_ISSUERS_ALLOW_HTTP_LOCALHOST', path: 'crossDomain.allowHttpLocalhost', parse: booleanText },
  { name: 'MANDATE_REGISTRATION_DEVICE_GRANT', path: 'registration.allowDeviceGrant', parse: booleanText },
  { name: 'MANDATE_REGISTRATION_LOOK_ALIKE_NAMES', path: 'registration.lookAlikeNames', parse: text },
  { name: 'MANDATE_PAR_TTL', path: 'authorization.pushedRequestTtlSeconds', parse: wholeNumberText },
  { name: 'MANDATE_REQUIRE_PAR', path: 'authorization.requirePushedAuthorizationRequests', parse: booleanText },
  { name: 'MANDATE_FAPI', path: 'fapi2SecurityProfile', parse: booleanText },
  { name: 'MANDATE_REGISTRATION_RATE_LIMIT', path: 'registration.perIpPerMinute', parse: wholeNumberText },
  { name: 'MANDATE_REGISTRATION_UNUSED_TTL', path: 'registration.unusedClientTtlSeconds', parse: wholeNumberText },
  { name: 'MANDATE_CLIENT_METADATA_DOCUMENTS', path: 'clientMetadataDocuments.enabled', parse: booleanText },
  { name: 'MANDATE_CLIENT_METADATA_ALLOW_HTTP_LOCALHOST', path: 'clientMetadataDocuments.allowHttpLocalhost', parse: booleanText },
  { name: 'MANDATE_CLIENT_METADATA_TIMEOUT_MS', path: 'clientMetadataDocuments.timeoutMs', parse: wholeNumberText },
  { name: 'MANDATE_LOG_LEVEL', path: 'logLevel', parse: text },
  { name: 'MANDATE_LOG_REQUESTS', path: 'logRequests', parse: booleanText },
  { name: 'MANDATE_METRICS_PORT', path: 'metrics.port', parse: wholeNumberText },
  // The standard variable first, so that Mandate's own wins when both are set.
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', path: 'telemetry.otlpEndpoint', parse: text },
  { name: 'MANDATE_OTEL_ENDPOINT', path: 'telemetry.otlpEndpoint', parse: text },
  { name: 'OTEL_SERVICE_NAME', path: 'telemetry.serviceName', parse: text },
  { name: 'MANDATE_METRICS_HOST', path: 'metrics.host', parse: text },
  { name: 'MANDATE_SHUTDOWN_GRACE', path: 'shutdownGraceSeconds', parse: wholeNumberText },
  { name: 'MANDATE_REVOCATION_EVENTS_POLL_MS', path: 'revocationEventsPollMs', parse: wholeNumberText },
  { name: 'MANDATE_REVOCATION_WEBHOOK_ALLOW_HTTP_LOCALHOST', path: 'revocationWebhookAllowHttpLocalhost', parse: booleanText },
  { name: 'MANDATE_AUDIT_RETENTION_DAYS', path: 'retention.auditDays', parse: wholeNumberText },
];

/**
 * The overrides Mandate's environment variables make; the only place that reads them. An unset or empty variable
 * sets nothing. The values are checked with everything else by `resolveConfig`, which names the variable.
 */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): ConfigOverrides {
  const overrides: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const { name, path, parse } of ENVIRONMENT_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const keys = path.split('.');
    const last = keys.pop() as string;
    let group = overrides;
    for (const key of keys) group = (group[key] ??= {}) as Record<string, unknown>;
    group[last] = parse(value, name);
    sources.set(path, name);
  }
  environmentSources.set(overrides, sources);
  return overrides as ConfigOverrides;
}

/** The variable naming an optional configuration file; `mandate serve --config <path>` overrides it. */
export const CONFIG_FILE_VARIABLE = 'MANDATE_CONFIG_FILE';

/**
 * A configuration file: one JSON object in the shape of the configuration (`{ "issuer": …, "tokens": {
 * "accessTokenTtlSeconds": 600 } }`), any part of it. Its values are checked with everything else by
 * `resolveConfig`, which names the file. A file that cannot be read or is not a JSON object is refused in one line
 * that quotes none of its text (it may hold the KEK).
 */
export function configFromFile(path: string): ConfigOverrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the configuration file ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    const before = position === undefined ? undefined : text.slice(0, Number(position)).split('\n');
    throw new ConfigError(`the configuration file ${path} is not valid JSON${before ? ` (line ${before.length}, column ${before.at(-1)!.length + 1})` : ''}`);
  }
  if (!isPlainObject(value)) throw new ConfigError(`the configuration file ${path} must hold a JSON object`);
  fileSources.set(value, `the configuration file ${path}`);
  return value as ConfigOverrides;
}

/**
 * The configuration from outside the program, lowest first: the file `file` (or MANDATE_CONFIG_FILE) names, if
 * any, then the environment over it. Command-line flags go on top.
 */
export function configFromFileAndEnvironment(file?: string, env: NodeJS.ProcessEnv = process.env): ConfigOverrides[] {
  const path = file ?? env[CONFIG_FILE_VARIABLE];
  return [...(path ? [configFromFile(path)] : []), configFromEnvironment(env)];
}
