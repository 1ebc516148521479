import { configFromFile } from './config-file.ts';
import { ConfigError, environmentSources } from './resolve.ts';
import type { ConfigOverrides } from './schema.ts';

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
  { name: 'MANDATE_REDIS_URL', path: 'redisUrl', parse: text },
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
 * The configuration from outside the program, lowest first: the file `file` (or MANDATE_CONFIG_FILE) names, if
 * any, then the environment over it. Command-line flags go on top.
 */
export function configFromFileAndEnvironment(file?: string, env: NodeJS.ProcessEnv = process.env): ConfigOverrides[] {
  const path = file ?? env[CONFIG_FILE_VARIABLE];
  return [...(path ? [configFromFile(path)] : []), configFromEnvironment(env)];
}
