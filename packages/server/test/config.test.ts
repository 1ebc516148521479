import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, configFromEnvironment, configFromFile, configFromFileAndEnvironment, defaults, ENVIRONMENT_VARIABLES, resolveConfig } from '../src/config.ts';

/** The sections' own text, where the options are defined (list entries and value types have files, and comments, of their own). */
const configDir = new URL('../src/config/', import.meta.url);
const sectionFiles = readdirSync(configDir).filter((file) => file.endsWith('-options.ts')).sort();
const source = sectionFiles.map((file) => readFileSync(new URL(file, configDir), 'utf8')).join('\n');
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** Every option's dotted path, from the defaults (an absent optional option such as keys.kek is listed by hand). */
function optionPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => optionPaths(inner, prefix ? `${prefix}.${key}` : key));
}
const OPTIONAL_WITHOUT_DEFAULT = ['keys.kek', 'users.webauthnRpId', 'metrics.port', 'retention.auditDays', 'transactionTokens.trustDomain', 'telemetry.otlpEndpoint', 'keys.rotationIntervalSeconds', 'keys.externalSigner', 'redisUrl'];
const allPaths = [...optionPaths(defaults), ...OPTIONAL_WITHOUT_DEFAULT];

const at = (object: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], object);

describe('defaults', () => {
  test('the defaults are the schema applied to nothing, and they are frozen all the way down', () => {
    assert.deepEqual(resolveConfig(), defaults);
    assert.equal(defaults.tokens.accessTokenTtlSeconds, 900);
    assert.equal(defaults.keys.algorithm, 'ES256');
    assert.ok(Object.isFrozen(defaults) && Object.isFrozen(defaults.tokens) && Object.isFrozen(defaults.upstreamProviders));
    assert.throws(() => {
      (defaults.tokens as { accessTokenTtlSeconds: number }).accessTokenTtlSeconds = 1;
    }, TypeError);
  });

  test('every option is documented where it is defined: a comment block directly above it, naming its default', () => {
    for (const path of allPaths) {
      const key = path.split('.').at(-1)!;
      const documented = new RegExp(`\\*/\\s*\\n\\s*${key}: [^\\n]*`).exec(source);
      assert.ok(documented, `${path} has no doc comment right above its definition`);
      const block = source.slice(source.lastIndexOf('/**', documented.index), documented.index);
      if (!OPTIONAL_WITHOUT_DEFAULT.includes(path)) assert.match(block, /Default/, `${path}'s comment does not say its default`);
    }
  });

  test('a resolved config is a new frozen object; overrides never leak into the defaults', () => {
    const config = resolveConfig({ tokens: { accessTokenTtlSeconds: 300 }, upstreamProviders: [{ id: 'g', name: 'G', issuer: 'https://accounts.example', clientId: 'c' }] });
    assert.equal(config.tokens.accessTokenTtlSeconds, 300);
    assert.equal(config.tokens.maxAccessTokenTtlSeconds, 86_400, 'the rest of the group keeps its defaults');
    assert.deepEqual(config.upstreamProviders[0]?.scopes, ['openid', 'email', 'profile']);
    assert.ok(Object.isFrozen(config.upstreamProviders[0]?.scopes));
    assert.equal(defaults.tokens.accessTokenTtlSeconds, 900);
    assert.deepEqual(defaults.upstreamProviders, []);
  });
});

describe('errors name the option and what it must be', () => {
  const refused = (overrides: object, message: string | RegExp) =>
    assert.throws(() => resolveConfig(overrides as never), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    });

  test('out of range, wrong type, unknown value', () => {
    refused({ tokens: { accessTokenTtlSeconds: 5 } }, 'tokens.accessTokenTtlSeconds must be a whole number of seconds between 60 and 86400');
    refused({ tokens: { accessTokenTtlSeconds: '900' } }, 'tokens.accessTokenTtlSeconds must be a whole number of seconds between 60 and 86400');
    refused({ tokens: { clockSkewSeconds: 1.5 } }, 'tokens.clockSkewSeconds must be a whole number of seconds between 0 and 600');
    refused({ port: 70_000 }, 'port must be a whole number between 0 and 65535');
    refused({ keys: { algorithm: 'HS256' } }, 'keys.algorithm must be one of ES256, EdDSA, RS256');
    refused({ logLevel: 'verbose' }, 'logLevel must be one of fatal, error, warn, info, debug, silent');
    refused({ delegation: { allowImpersonation: 'yes' } }, 'delegation.allowImpersonation must be true or false');
    refused({ issuer: 'https://as.example/' }, 'issuer must be an http(s) URL without query, fragment or trailing slash');
    refused({ keys: { kek: 'short' } }, 'keys.kek must be 32 bytes, base64url-encoded (43 characters)');
    refused({ databaseUrl: 'mysql://x' }, 'databaseUrl must be sqlite:<path> or postgres://…');
  });

  test('unknown options are refused by name, at any depth', () => {
    refused({ tokenTtl: 5 }, 'tokenTtl is not a configuration option');
    refused({ tokens: { accessTokenTTLSeconds: 5 } }, 'tokens.accessTokenTTLSeconds is not a configuration option');
  });

  test('options that must agree with each other', () => {
    refused({ tokens: { accessTokenTtlSeconds: 7200, maxAccessTokenTtlSeconds: 3600 } }, 'tokens.accessTokenTtlSeconds must not exceed tokens.maxAccessTokenTtlSeconds');
    refused({ authorization: { refreshTokenIdleTtlSeconds: 10_000, refreshTokenFamilyTtlSeconds: 5000 } }, /^authorization\.refreshTokenIdleTtlSeconds must not exceed/);
    refused({ users: { baseLockSeconds: 60, maxLockSeconds: 30 } }, 'users.baseLockSeconds must not exceed users.maxLockSeconds');
  });

  test('upstream providers: each entry checked, with its index in the path', () => {
    refused({ upstreamProviders: [{ id: 'g', name: 'G', issuer: 'http://idp.example', clientId: 'c' }] }, /^upstreamProviders\.0\.issuer must be an https URL/);
    refused({ upstreamProviders: [{ id: 'g', name: 'G', issuer: 'https://idp.example', clientId: 'c', scopes: ['email'] }] }, 'upstreamProviders.0.scopes must include openid');
    const provider = { id: 'g', name: 'G', issuer: 'https://idp.example', clientId: 'c' };
    refused({ upstreamProviders: [provider, provider] }, 'upstreamProviders must have unique provider ids');
  });
});

describe('environment variables', () => {
  test('each variable sets its option; unset and empty ones set nothing', () => {
    const config = resolveConfig(configFromEnvironment({
      MANDATE_ISSUER: 'https://auth.example', PORT: '9000', MANDATE_SIGNING_ALG: 'EdDSA', MANDATE_ACCESS_TOKEN_TTL: '600',
      MANDATE_RATE_LIMIT_CLIENT: '0', MANDATE_ALLOW_IMPERSONATION: 'true', MANDATE_TRUST_PROXY: 'false', MANDATE_LOG_LEVEL: '',
      MANDATE_UPSTREAM_PROVIDERS: '[{"id":"g","name":"G","issuer":"https://idp.example","clientId":"c"}]',
    }));
    assert.equal(config.issuer, 'https://auth.example');
    assert.equal(config.port, 9000);
    assert.equal(config.keys.algorithm, 'EdDSA');
    assert.equal(config.tokens.accessTokenTtlSeconds, 600);
    assert.equal(config.rateLimit.tokenPerClientPerMinute, 0);
    assert.equal(config.delegation.allowImpersonation, true);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.upstreamProviders[0]?.id, 'g');
  });

  test('a bad value names the variable: unparseable text at once, an invalid value next to its option', () => {
    assert.throws(() => configFromEnvironment({ PORT: '80a' }), { name: 'ConfigError', message: 'PORT must be a whole number, got "80a"' });
    assert.throws(() => resolveConfig(configFromEnvironment({ MANDATE_TRUST_PROXY: 'yes' })), {
      message: 'http.trustProxy.0 must be an IP address, a CIDR (address/prefix), loopback, linklocal or uniquelocal (from MANDATE_TRUST_PROXY)',
    });
    assert.throws(() => configFromEnvironment({ MANDATE_UPSTREAM_PROVIDERS: '[{' }), { message: 'MANDATE_UPSTREAM_PROVIDERS must be JSON' });
    assert.throws(() => resolveConfig(configFromEnvironment({ MANDATE_ACCESS_TOKEN_TTL: '5' })), {
      message: 'tokens.accessTokenTtlSeconds must be a whole number of seconds between 60 and 86400 (from MANDATE_ACCESS_TOKEN_TTL)',
    });
    assert.throws(() => resolveConfig(configFromEnvironment({ MANDATE_SIGNING_ALG: 'none' })), { message: 'keys.algorithm must be one of ES256, EdDSA, RS256 (from MANDATE_SIGNING_ALG)' });
  });

  test('a later override wins, and then the error names it, not the variable', () => {
    assert.equal(resolveConfig(configFromEnvironment({ PORT: '9000' }), { port: 9100 }).port, 9100);
    assert.throws(() => resolveConfig(configFromEnvironment({ PORT: '9000' }), { port: 70_000 }), { message: 'port must be a whole number between 0 and 65535' });
  });

  test('every variable names a real option, and the README table lists exactly these variables with their defaults', () => {
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const documented = rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!));
    assert.deepEqual([...documented].sort(), ENVIRONMENT_VARIABLES.map((v) => v.name).sort());
    for (const variable of ENVIRONMENT_VARIABLES) assert.ok(allPaths.includes(variable.path), `${variable.name} sets ${variable.path}, which is not an option`);
    // A row's default cell, when it is only literals (`900` or `600`, `1200`; not `<port>`), is the options' defaults in order.
    for (const row of rows) {
      const [, names = '', defaultCell = ''] = row.split('|');
      if (!/^\s*(`[^`<]*`(,\s*)?)+\s*$/.test(defaultCell)) continue;
      const literals = [...defaultCell.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
      const variables = [...names.matchAll(/`([A-Z_]+)`/g)].map((m) => ENVIRONMENT_VARIABLES.find((v) => v.name === m[1])!);
      variables.forEach((variable, i) => assert.equal(String(at(defaults, variable.path)), literals[i], `README default of ${variable.name}`));
    }
  });

  test('no module but config/environment.ts reads process.env (the PostgreSQL user default follows libpq, in open-store.ts)', () => {
    const src = new URL('../src/', import.meta.url);
    const readers = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && readFileSync(new URL(file, src), 'utf8').includes('process.env'))
      .sort();
    assert.deepEqual(readers, ['config/environment.ts', 'store/open-store.ts']);
  });
});

describe('configuration file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('a JSON file sets any part of the configuration; the environment overrides it, flags override both', () => {
    const path = file('mandate.json', JSON.stringify({ issuer: 'https://auth.example', tokens: { accessTokenTtlSeconds: 600 }, metrics: { port: 9464 }, shutdownGraceSeconds: 5 }));
    const config = resolveConfig(...configFromFileAndEnvironment(undefined, { MANDATE_CONFIG_FILE: path, MANDATE_ACCESS_TOKEN_TTL: '700' }), { shutdownGraceSeconds: 3 });
    assert.equal(config.issuer, 'https://auth.example');
    assert.equal(config.tokens.accessTokenTtlSeconds, 700);
    assert.equal(config.metrics.port, 9464);
    assert.equal(config.metrics.host, '127.0.0.1');
    assert.equal(config.shutdownGraceSeconds, 3);
    // An explicit path (serve --config) wins over the variable; no file at all is the environment alone.
    const other = file('other.json', '{"port": 9001}');
    assert.equal(resolveConfig(...configFromFileAndEnvironment(other, { MANDATE_CONFIG_FILE: path })).port, 9001);
    assert.deepEqual(configFromFileAndEnvironment(undefined, {}).length, 1);
  });

  test('an invalid value in the file names the option and the file', () => {
    const path = file('bad-value.json', JSON.stringify({ tokens: { accessTokenTtlSeconds: 5 } }));
    assert.throws(() => resolveConfig(configFromFile(path)), {
      name: 'ConfigError',
      message: `tokens.accessTokenTtlSeconds must be a whole number of seconds between 60 and 86400 (from the configuration file ${path})`,
    });
    const unknown = file('unknown.json', JSON.stringify({ metrics: { path: '/metrics' } }));
    assert.throws(() => resolveConfig(configFromFile(unknown)), { message: 'metrics.path is not a configuration option' });
    // The environment over the file: an invalid environment value names the variable, not the file.
    assert.throws(() => resolveConfig(...configFromFileAndEnvironment(path, { MANDATE_ACCESS_TOKEN_TTL: '30' })), { message: /\(from MANDATE_ACCESS_TOKEN_TTL\)$/ });
  });

  test('a file that is missing, not JSON or not an object is one line that quotes none of its text (it may hold the KEK)', () => {
    const kek = 'k'.repeat(43);
    const broken = file('broken.json', `{\n  "keys": { "kek": "${kek}" ,, }\n}`);
    assert.throws(() => configFromFile(broken), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `the configuration file ${broken} is not valid JSON (line 2, column 67)`);
      return true;
    });
    assert.throws(() => configFromFile(join(dir, 'absent.json')), { message: `cannot read the configuration file ${join(dir, 'absent.json')} (ENOENT)` });
    assert.throws(() => configFromFile(file('list.json', '[1]')), { message: /must hold a JSON object$/ });
  });
});

test('OTel: MANDATE_OTEL_ENDPOINT or the standard OTEL_EXPORTER_OTLP_ENDPOINT sets the traces endpoint (Mandate’s wins); a non-http URL is refused', () => {
  assert.equal(resolveConfig().telemetry.otlpEndpoint, undefined);
  assert.equal(resolveConfig(configFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).telemetry.otlpEndpoint, 'http://collector:4318');
  const both = resolveConfig(configFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://standard:4318', MANDATE_OTEL_ENDPOINT: 'https://mandate:4318' }));
  assert.equal(both.telemetry.otlpEndpoint, 'https://mandate:4318');
  assert.equal(resolveConfig(configFromEnvironment({ OTEL_SERVICE_NAME: 'auth-eu' })).telemetry.serviceName, 'auth-eu');
  assert.throws(() => resolveConfig(configFromEnvironment({ MANDATE_OTEL_ENDPOINT: 'ftp://x' })), /telemetry\.otlpEndpoint must be an http\(s\) URL/);
});
