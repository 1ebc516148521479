/**
 * The peer: oidc-provider 9, run as its own process by lib-peer.ts, configured for the same work Mandate does. The
 * agent gets `client_credentials` tokens for the MCP resource (RFC 8707 resource indicator), authenticating with
 * `client_secret_basic`; tokens are RFC 9068 JWTs signed ES256. oidc-provider refuses to introspect its JWTs, so
 * for the introspection benchmark (PEER_ACCESS_TOKEN_FORMAT=opaque) the resource's tokens are opaque and the
 * resource server introspects them as a confidential client. Storage is its default in-memory adapter; it keeps no
 * audit trail. Prints `oidc-provider <version> listening on <url>` when ready.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, Provider } from 'oidc-provider';
import { ACCESS_TOKEN_TTL_SECONDS, AGENT_SCOPES, RESOURCE } from './lib-fixture.ts';
import { oidcProviderVersion } from './lib-peer.ts';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const agentId = requiredEnv('PEER_AGENT_ID');
const resourceClientId = requiredEnv('PEER_RESOURCE_CLIENT_ID');
const accessTokenFormat = process.env['PEER_ACCESS_TOKEN_FORMAT'] === 'opaque' ? 'opaque' : 'jwt';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const http = createServer({ keepAliveTimeout: 65_000 });
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const issuer = `http://localhost:${(http.address() as AddressInfo).port}`;

// Built as plain data and cast: @types/oidc-provider lags behind oidc-provider 9's configuration (e.g. introspection).
const configuration: Record<string, unknown> = {
  clients: [
    {
      client_id: agentId,
      client_secret: requiredEnv('PEER_AGENT_SECRET'),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: AGENT_SCOPES.join(' '),
    },
    {
      // The MCP server, registered as a client only to authenticate at the introspection endpoint.
      client_id: resourceClientId,
      client_secret: requiredEnv('PEER_RESOURCE_SECRET'),
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Its default RS256 would need an RSA key; every token and response here is ES256.
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  jwks: { keys: [signingJwk] },
  scopes: [...AGENT_SCOPES],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // What Mandate enforces too (RFC 7662 §2.2): a resource server learns about tokens meant for it; a client about its own.
      allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string; aud?: string | string[] }) =>
        client.clientId === token.clientId || (client.clientId === resourceClientId && [token.aud ?? []].flat().includes(RESOURCE)),
    },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: async (_ctx: unknown, resourceIndicator: string) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: AGENT_SCOPES.join(' '),
          audience: RESOURCE,
          accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
          accessTokenFormat,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
};
const provider = new Provider(issuer, configuration as ConstructorParameters<typeof Provider>[1]);
// Errors only: a healthy run prints nothing, and the bench counts refused requests itself.
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
provider.on('grant.error', (_ctx, err) => console.error('grant.error', err));
provider.on('introspection.error', (_ctx, err) => console.error('introspection.error', err));

http.on('request', provider.callback());
console.log(`oidc-provider ${oidcProviderVersion()} listening on ${issuer} (${accessTokenFormat} access tokens)`);
