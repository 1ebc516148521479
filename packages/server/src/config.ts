import { z } from 'zod';

/**
 * The server's whole configuration, in one place. Every option is documented where its default is set.
 * `loadConfig` parses it once at startup (environment variables and CLI flags merged over `defaults`), rejects
 * a malformed value with the path and what was expected, and freezes the result. Nothing else reads process.env.
 */
export const defaults = {
  /** Public base URL; the `iss` of every token and the prefix of every endpoint. No trailing slash, no query. */
  issuer: 'http://localhost:8787',
  /** Interface and port `serve` listens on. 127.0.0.1 by default so a first start is not exposed to the network. */
  host: '127.0.0.1',
  port: 8787,
  /** `sqlite:<path>` (embedded, the default) or `postgres://…` (several instances). */
  databaseUrl: 'sqlite:./.mandate/mandate.db',
  /** SQLite `synchronous`: NORMAL survives a process crash (WAL); FULL also a power loss, at a write-latency cost. */
  sqliteSynchronous: 'NORMAL' as 'NORMAL' | 'FULL',
  keys: {
    /** Algorithm of newly generated signing keys. ES256 is fast and widely supported; RS256 is what RFC 9068 mandates RSes accept. */
    algorithm: 'ES256' as 'ES256' | 'EdDSA' | 'RS256',
    /**
     * Key-encryption key (32 bytes, base64url) that encrypts signing keys at rest. When unset, a random one is
     * generated into `kekFile` (mode 0600) on first start. Several instances on one database need the same KEK.
     */
    kek: undefined as string | undefined,
    kekFile: './.mandate/kek',
    /** How often a running server re-reads the key set, so a `mandate keys rotate` elsewhere takes effect. */
    reloadIntervalSeconds: 30,
  },
  tokens: {
    /** Default access-token lifetime. Short, as OAuth 2.1 and MCP recommend; agents may override it per agent. */
    accessTokenTtlSeconds: 900,
    /** Ceiling on any access-token lifetime; a retired key stays in the JWKS this long after rotation. */
    maxAccessTokenTtlSeconds: 86_400,
    /** Allowed clock difference when checking `exp`/`iat` of assertions presented to us. */
    clockSkewSeconds: 60,
    /** Maximum lifetime accepted for a `private_key_jwt` client assertion (exp − now). */
    clientAssertionMaxTtlSeconds: 300,
  },
  agents: {
    /** After `rotate-secret`, the previous secret keeps working this long so deployments can roll over. */
    secretRotationGraceSeconds: 86_400,
  },
  users: {
    /** Lifetime of a signed-in browser session (absolute, not sliding). 12 hours: a working day, then log in again. */
    sessionTtlSeconds: 43_200,
    /** Lifetime of a session before anyone logs in (it carries CSRF and WebAuthn state only). */
    anonymousSessionTtlSeconds: 1800,
    /** Failed logins per account before each further failure locks the account (exponential backoff). */
    accountFreeFailures: 5,
    /** Failed logins per client address before the address is locked the same way; higher, since NAT is shared. */
    ipFreeFailures: 30,
    /** First lock after the free failures, doubled for each further failure, capped by `maxLockSeconds`. */
    baseLockSeconds: 2,
    maxLockSeconds: 900,
    /** A failure counter resets when the last failure is older than this. */
    failureWindowSeconds: 3600,
    /**
     * WebAuthn relying-party id: a registrable suffix of the issuer's host. Default: the issuer's host name.
     * Passkeys are bound to it; changing it later orphans every registered passkey.
     */
    webauthnRpId: undefined as string | undefined,
  },
  authorization: {
    /** Authorization codes live at most this long (OAuth 2.1 §4.1.2 recommends ≤ 10 min; one minute is plenty). */
    codeTtlSeconds: 60,
    /** A refresh token not used for this long expires (each use rotates it and restarts the clock). 30 days. */
    refreshTokenIdleTtlSeconds: 2_592_000,
    /** A refresh-token family (one user grant) ends this long after the user consented, however it is used. 90 days. */
    refreshTokenFamilyTtlSeconds: 7_776_000,
    /** ID token lifetime. One hour; ID tokens say who logged in, they authorise nothing by themselves. */
    idTokenTtlSeconds: 3600,
  },
  delegation: {
    /** Deepest `act` nesting a token exchange may produce (user → agent → sub-agent … counts actors). */
    maxChainDepth: 5,
    /**
     * Token exchange without `actor_token` (RFC 8693 impersonation: a token for the subject, no new `act`).
     * Off: every exchange must name its actor, so the delegation chain always records who acts.
     */
    allowImpersonation: false,
  },
  /**
   * Upstream OpenID providers users may log in with (Google, or any issuer with OIDC discovery), shown as buttons
   * on the login page. Each: `id` (URL-safe), `name`, `issuer`, `clientId`, optional `clientSecret` (else PKCE-only
   * public client), `scopes` (default openid email profile), `linkByVerifiedEmail` (link to an existing account
   * whose email the provider reports as verified; default false, since that trusts the provider with every local
   * account), `provision` (create an account on first login; default true). The redirect URI to register with the
   * provider is `<issuer>/login/upstream/<id>/callback`. Env: MANDATE_UPSTREAM_PROVIDERS as a JSON array.
   */
  upstreamProviders: [] as UpstreamProviderConfig[],
  rateLimit: {
    /** Token-endpoint requests per minute per client id (after authentication). 0 disables the limit. */
    tokenPerClientPerMinute: 600,
    /** Token-endpoint requests per minute per remote address, authenticated or not. 0 disables the limit. */
    tokenPerIpPerMinute: 1200,
  },
  http: {
    /** Largest request body accepted; larger bodies get 413 before they are parsed. */
    bodyLimitBytes: 65_536,
    /** Trust X-Forwarded-* (set only behind a reverse proxy you control); affects rate limiting by IP. */
    trustProxy: false,
  },
  /** pino level for the server log; secrets and tokens are never logged at any level. */
  logLevel: 'info' as 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent',
};

export interface UpstreamProviderConfig {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes: string[];
  linkByVerifiedEmail: boolean;
  provision: boolean;
}

export type MandateConfig = {
  readonly issuer: string;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly sqliteSynchronous: 'NORMAL' | 'FULL';
  readonly keys: Readonly<{
    algorithm: 'ES256' | 'EdDSA' | 'RS256';
    kek: string | undefined;
    kekFile: string;
    reloadIntervalSeconds: number;
  }>;
  readonly tokens: Readonly<typeof defaults.tokens>;
  readonly agents: Readonly<typeof defaults.agents>;
  readonly users: Readonly<typeof defaults.users>;
  readonly authorization: Readonly<typeof defaults.authorization>;
  readonly delegation: Readonly<typeof defaults.delegation>;
  readonly upstreamProviders: readonly Readonly<UpstreamProviderConfig>[];
  readonly rateLimit: Readonly<typeof defaults.rateLimit>;
  readonly http: Readonly<typeof defaults.http>;
  readonly logLevel: typeof defaults.logLevel;
};

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

const issuerSchema = z
  .string()
  .url()
  .refine((value) => {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash && !value.endsWith('/');
  }, 'must be an http(s) URL without query, fragment or trailing slash');

/** An upstream issuer: https, or http on a loopback host (tests and local development). */
const upstreamIssuer = z
  .string()
  .url()
  .refine((value) => {
    const url = new URL(value);
    const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
    return (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) && !url.search && !url.hash;
  }, 'must be an https URL (http only on a loopback host) without query or fragment');

const upstreamProviderSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes'),
    name: z.string().min(1).max(100),
    issuer: upstreamIssuer,
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/)).default(['openid', 'email', 'profile']),
    linkByVerifiedEmail: z.boolean().default(false),
    provision: z.boolean().default(true),
  })
  .strict()
  .refine((p) => p.scopes.includes('openid'), { message: 'must include openid', path: ['scopes'] });

const configSchema = z
  .object({
    issuer: issuerSchema,
    host: z.string().min(1),
    port: z.number().int().min(0).max(65_535),
    databaseUrl: z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<path> or postgres://…'),
    sqliteSynchronous: z.enum(['NORMAL', 'FULL']),
    keys: z.object({
      algorithm: z.enum(['ES256', 'EdDSA', 'RS256']),
      kek: z
        .string()
        .regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url-encoded (43 characters)')
        .optional(),
      kekFile: z.string().min(1),
      reloadIntervalSeconds: seconds(1, 3600),
    }),
    tokens: z.object({
      accessTokenTtlSeconds: seconds(60, 86_400),
      maxAccessTokenTtlSeconds: seconds(60, 604_800),
      clockSkewSeconds: seconds(0, 600),
      clientAssertionMaxTtlSeconds: seconds(30, 3600),
    }),
    agents: z.object({ secretRotationGraceSeconds: seconds(0, 2_592_000) }),
    users: z.object({
      sessionTtlSeconds: seconds(300, 2_592_000),
      anonymousSessionTtlSeconds: seconds(60, 86_400),
      accountFreeFailures: z.number().int().min(1).max(100),
      ipFreeFailures: z.number().int().min(1).max(10_000),
      baseLockSeconds: seconds(1, 3600),
      maxLockSeconds: seconds(1, 86_400),
      failureWindowSeconds: seconds(60, 86_400),
      webauthnRpId: z.string().regex(/^[a-z0-9.-]+$/, 'must be a host name').optional(),
    }),
    authorization: z.object({
      codeTtlSeconds: seconds(10, 600),
      refreshTokenIdleTtlSeconds: seconds(300, 31_536_000),
      refreshTokenFamilyTtlSeconds: seconds(300, 31_536_000),
      idTokenTtlSeconds: seconds(60, 86_400),
    }),
    delegation: z.object({ maxChainDepth: z.number().int().min(1).max(20), allowImpersonation: z.boolean() }),
    upstreamProviders: z
      .array(upstreamProviderSchema)
      .max(20)
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'provider ids must be unique'),
    rateLimit: z.object({
      tokenPerClientPerMinute: z.number().int().min(0),
      tokenPerIpPerMinute: z.number().int().min(0),
    }),
    http: z.object({ bodyLimitBytes: z.number().int().min(1024).max(10_485_760), trustProxy: z.boolean() }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']),
  })
  .strict()
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
  });

export type ConfigOverrides = {
  [K in keyof MandateConfig]?: MandateConfig[K] extends Readonly<Record<string, unknown>> ? Partial<MandateConfig[K]> : MandateConfig[K];
};

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

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/** Validates overrides merged over the defaults; throws ConfigError naming the path, e.g. `tokens.accessTokenTtlSeconds`. */
export function resolveConfig(...overrides: ConfigOverrides[]): MandateConfig {
  const merged = overrides.reduce<Record<string, unknown>>((acc, o) => merge(acc, o as Record<string, unknown>), structuredClone(defaults));
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.') || 'config'} ${issue.message}`);
  }
  return deepFreeze(parsed.data as MandateConfig);
}

const int = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
};

/** MANDATE_UPSTREAM_PROVIDERS: a JSON array of `upstreamProviders` entries (validated with the rest of the config). */
function upstreamProvidersFromEnv(value: string | undefined): UpstreamProviderConfig[] | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value) as UpstreamProviderConfig[];
  } catch {
    throw new ConfigError('MANDATE_UPSTREAM_PROVIDERS must be a JSON array of providers');
  }
}

/** The environment variables Mandate reads, mapped onto config paths. Documented in the README. */
export function configFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  return {
    issuer: env['MANDATE_ISSUER'] || undefined,
    host: env['MANDATE_HOST'] || undefined,
    port: int('PORT', env['PORT']),
    databaseUrl: env['MANDATE_DATABASE_URL'] || undefined,
    sqliteSynchronous: (env['MANDATE_SQLITE_SYNCHRONOUS'] as 'NORMAL' | 'FULL' | undefined) || undefined,
    keys: {
      algorithm: (env['MANDATE_SIGNING_ALG'] as 'ES256' | 'EdDSA' | 'RS256' | undefined) || undefined,
      kek: env['MANDATE_KEK'] || undefined,
      kekFile: env['MANDATE_KEK_FILE'] || undefined,
    },
    tokens: {
      accessTokenTtlSeconds: int('MANDATE_ACCESS_TOKEN_TTL', env['MANDATE_ACCESS_TOKEN_TTL']),
    },
    rateLimit: {
      tokenPerClientPerMinute: int('MANDATE_RATE_LIMIT_CLIENT', env['MANDATE_RATE_LIMIT_CLIENT']),
      tokenPerIpPerMinute: int('MANDATE_RATE_LIMIT_IP', env['MANDATE_RATE_LIMIT_IP']),
    },
    delegation: {
      allowImpersonation: env['MANDATE_ALLOW_IMPERSONATION'] === undefined ? undefined : env['MANDATE_ALLOW_IMPERSONATION'] === 'true',
    },
    upstreamProviders: upstreamProvidersFromEnv(env['MANDATE_UPSTREAM_PROVIDERS']),
    http: { trustProxy: env['MANDATE_TRUST_PROXY'] === undefined ? undefined : env['MANDATE_TRUST_PROXY'] === 'true' },
    logLevel: (env['MANDATE_LOG_LEVEL'] as MandateConfig['logLevel'] | undefined) || undefined,
  };
}
