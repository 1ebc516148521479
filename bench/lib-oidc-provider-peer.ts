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
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errors, Provider } from 'oidc-provider';
import { ACCESS_TOKEN_TTL_SECONDS, AGENT_SCOPES, APP_REDIRECT_URI, APP_SCOPES, BENCH_USER_EMAIL, RESOURCE } from './lib-fixture.ts';
import { oidcProviderVersion } from './lib-peer.ts';

/**
 * The in-memory adapter is an LRU of 1,000 entries shared by every model (tokens, codes, sessions, grants): a code
 * flow at full speed would evict the signed-in session and its grant within a second, and `introspect --tokens 5000`
 * would forget tokens. Its own LRU, raised to PEER_MEMORY_ENTRIES, keeps them; it is the same adapter code.
 */
export const PEER_MEMORY_ENTRIES = 1_000_000;
const lib = join(dirname(createRequire(import.meta.url).resolve('oidc-provider/package.json')), 'lib');
type AdapterClass = new (model: string, store: unknown) => unknown;
const { default: MemoryAdapter } = (await import(pathToFileURL(join(lib, 'adapters/memory_adapter.js')).href)) as { default: AdapterClass };
const { default: LRU } = (await import(pathToFileURL(join(lib, 'helpers/lru.js')).href)) as { default: new (o: { maxSize: number }) => unknown };
const store = new LRU({ maxSize: PEER_MEMORY_ENTRIES });
/** What the provider does with no `adapter` configured (createMemoryAdapter), with the larger LRU. */
const adapter = (model: string) => new MemoryAdapter(model, store);

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
      // The web application of the code flow and refresh benchmarks: confidential, PKCE, refresh tokens.
      client_id: requiredEnv('PEER_APP_ID'),
      client_secret: requiredEnv('PEER_APP_SECRET'),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [APP_REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: APP_SCOPES.join(' '),
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
  scopes: [...new Set([...AGENT_SCOPES, ...APP_SCOPES])],
  adapter,
  // One user, signed in by the interaction below; its claims are its id.
  findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  // Mandate rotates every refresh token on use; by default oidc-provider rotates only public clients' tokens.
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    // RFC 7591, open as Mandate's default: anyone may register.
    registration: { enabled: true },
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

/**
 * The login and consent "pages": every interaction signs in BENCH_USER_EMAIL and grants the application the scopes
 * it may have at the resource (and offline_access), at once. Only the benchmark's setup comes here: once the grant
 * is in the session, authorization requests get their code without an interaction, as with Mandate's remembered
 * consent.
 */
async function interaction(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const clientId = String(details.params['client_id']);
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: BENCH_USER_EMAIL, clientId });
  if (!grant) throw new Error('the interaction names a grant that is gone');
  // The scopes it lists (`scopes` below) count as OpenID Provider scopes too: grant them both ways.
  const missing = (details.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? [];
  grant.addOIDCScope(['openid', 'offline_access', ...missing].join(' '));
  grant.addResourceScope(RESOURCE, APP_SCOPES.filter((s) => s !== 'offline_access').join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: BENCH_USER_EMAIL }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
http.on('request', (req, res) => {
  if (req.url?.startsWith('/interaction/')) {
    interaction(req, res).catch((err: unknown) => {
      console.error('interaction failed', err);
      res.statusCode = 500;
      res.end();
    });
    return;
  }
  void callback(req, res);
});
console.log(`oidc-provider ${oidcProviderVersion()} listening on ${issuer} (${accessTokenFormat} access tokens)`);
