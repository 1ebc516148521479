/**
 * The demo MCP server's settings, read from the environment in this one place.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `MANDATE_ISSUER` | `http://localhost:8787` | the authorization server whose tokens are accepted |
 * | `MCP_PORT`, `MCP_HOST` | `8788`, `127.0.0.1` | where to listen (loopback only by default) |
 * | `MCP_RESOURCE` | `http://localhost:<port>/mcp` | this server's resource URI: the `aud` its tokens must carry |
 * | `MCP_VERIFY` | `jwt` | `jwt`: verify tokens locally against the JWKS; `introspection`: also ask the AS (RFC 7662) |
 * | `MANDATE_RESOURCE_API_KEY` | none | the resource's API key (`mrk_…`), required for `introspection` |
 * | `MCP_INTROSPECTION_CACHE_SECONDS` | `0` | how long an introspection answer is reused; 0 asks on every call |
 * | `MCP_SANDBOX_DIR` | `./.mandate/sandbox` | the directory the file tools work in (seeded with samples when absent) |
 */

export type VerifyMode = { mode: 'jwt' } | { mode: 'introspection'; apiKey: string; cacheTtlSeconds: number };

export interface DemoServerConfig {
  issuer: string;
  host: string;
  /** 0 picks a free port; then the resource URI names the port bound. */
  port: number;
  /** Undefined: `http://localhost:<bound port>/mcp`. */
  resource: string | undefined;
  verify: VerifyMode;
  /** Undefined: `./.mandate/sandbox`, seeded from the committed samples on first use. */
  sandboxDir: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
}

export function demoConfigFromEnv(env: NodeJS.ProcessEnv): DemoServerConfig {
  const verifyName = env['MCP_VERIFY'] || 'jwt';
  let verify: VerifyMode;
  if (verifyName === 'jwt') {
    verify = { mode: 'jwt' };
  } else if (verifyName === 'introspection') {
    const apiKey = env['MANDATE_RESOURCE_API_KEY'];
    if (!apiKey) throw new ConfigError('MCP_VERIFY=introspection needs MANDATE_RESOURCE_API_KEY (mandate resource rotate-key <uri> prints one)');
    verify = { mode: 'introspection', apiKey, cacheTtlSeconds: wholeNumber('MCP_INTROSPECTION_CACHE_SECONDS', env['MCP_INTROSPECTION_CACHE_SECONDS'], 0) };
  } else {
    throw new ConfigError(`MCP_VERIFY must be jwt or introspection, got "${verifyName}"`);
  }
  const port = wholeNumber('MCP_PORT', env['MCP_PORT'], 8788);
  if (port > 65_535) throw new ConfigError('MCP_PORT must be at most 65535');
  const resource = env['MCP_RESOURCE'] || undefined;
  if (resource !== undefined && (!URL.canParse(resource) || resource.includes('#'))) throw new ConfigError('MCP_RESOURCE must be an absolute URL without a fragment');
  return {
    issuer: env['MANDATE_ISSUER'] || 'http://localhost:8787',
    host: env['MCP_HOST'] || '127.0.0.1',
    port,
    resource,
    verify,
    sandboxDir: env['MCP_SANDBOX_DIR'] || undefined,
  };
}
