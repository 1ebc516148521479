/**
 * `npm run bench -- introspect`: RFC 7662 introspection of an active access token by the resource server it was
 * issued for; Mandate next to oidc-provider 9. Mandate's tokens are its ES256 JWTs and the resource authenticates
 * with its API key; oidc-provider refuses to introspect its JWTs, so its tokens are opaque and the resource server
 * authenticates as a client with `client_secret_basic`.
 */
import {
  ACCESS_TOKEN_TTL_SECONDS,
  basicAuthorization,
  discoverEndpoints,
  type Endpoints,
  FORM_CONTENT_TYPE,
  issueTokens,
  RESOURCE,
  REQUESTED_SCOPE,
} from './lib-fixture.ts';
import { startMandate } from './lib-mandate.ts';
import type { BenchOptions, ServerName } from './lib-options.ts';
import { startPeer } from './lib-peer.ts';
import type { ServerProcess } from './lib-process.ts';
import { mandateStart, originsOf, type Prepared, runScenario } from './lib-scenario.ts';
import type { LoadRequest } from './lib-wrk.ts';

interface Started {
  server: ServerProcess;
  origins?: string[];
  /** Credentials of the agent that gets the tokens. */
  agentAuthorization: string;
  agentId: string;
  /** How the resource server authenticates at the introspection endpoint. */
  introspectionAuthorization: string;
  settings: Record<string, unknown>;
  close(): Promise<void>;
}

/** One introspection before any load: the token must be active, with the claims it was issued with. */
async function checkIntrospection(endpoints: Endpoints, authorization: string, token: string, agentId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${endpoints.origin}${endpoints.introspectionPath}`, {
    method: 'POST',
    headers: { authorization, 'content-type': FORM_CONTENT_TYPE },
    body: new URLSearchParams({ token }).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  const problems: string[] = [];
  if (response.status !== 200) problems.push(`status ${response.status}`);
  if (body['active'] !== true) problems.push('active is not true');
  if (body['client_id'] !== agentId) problems.push(`client_id is ${String(body['client_id'])}`);
  if (body['scope'] !== REQUESTED_SCOPE) problems.push(`scope is ${String(body['scope'])}`);
  if (![body['aud']].flat().includes(RESOURCE)) problems.push(`aud is ${JSON.stringify(body['aud'])}`);
  if (body['iss'] !== endpoints.issuer) problems.push(`iss is ${String(body['iss'])}`);
  if (typeof body['exp'] !== 'number' || body['exp'] <= Date.now() / 1000) problems.push('exp is not in the future');
  if (problems.length > 0) throw new Error(`introspection check failed: ${problems.join('; ')}\n${JSON.stringify(body)}`);
  return body;
}

/**
 * Tokens live ACCESS_TOKEN_TTL_SECONDS (Mandate's default, and the peer's setting); a run that waits for a quiet
 * machine can outlast them, so they are issued again before a run that could end after they expire.
 */
function tokenMaxAgeMs(options: BenchOptions): number {
  const ageSeconds = ACCESS_TOKEN_TTL_SECONDS - Math.max(options.durationSeconds, options.warmupSeconds) - 60;
  if (ageSeconds <= 0) throw new Error(`runs of ${options.durationSeconds} s would outlive the ${ACCESS_TOKEN_TTL_SECONDS} s tokens`);
  return ageSeconds * 1000;
}

async function prepare(name: ServerName, started: Started, options: BenchOptions): Promise<Prepared> {
  try {
    const endpoints = await discoverEndpoints(started.server.url);
    const issue = async (): Promise<{ load: LoadRequest; issuedAt: number; first: string }> => {
      const issuedAt = Date.now();
      const tokens = await issueTokens(endpoints, started.agentAuthorization, options.tokens);
      const load = {
        path: endpoints.introspectionPath,
        headers: { authorization: started.introspectionAuthorization, 'content-type': FORM_CONTENT_TYPE },
        bodies: tokens.map((token) => new URLSearchParams({ token }).toString()),
        expectInBody: '"active":true',
      };
      return { load, issuedAt, first: tokens[0]! };
    };
    let current = await issue();
    const body = await checkIntrospection(endpoints, started.introspectionAuthorization, current.first, started.agentId);
    const maxAgeMs = tokenMaxAgeMs(options);
    return {
      contender: {
        name,
        server: started.server,
        origin: endpoints.origin,
        ...(started.origins ? { origins: started.origins } : {}),
        async load() {
          if (Date.now() - current.issuedAt > maxAgeMs) current = await issue();
          return current.load;
        },
        settings: { ...started.settings, tokens: options.tokens },
        checked: { active: body['active'], aud: body['aud'], scope: body['scope'], tokenBytes: current.first.length, responseKeys: Object.keys(body) },
      },
      close: started.close,
    };
  } catch (err) {
    await started.close();
    throw err;
  }
}

/** The peer's in-memory adapter is raised to 1,000,000 entries (lib-oidc-provider-peer.ts); the library's default, 1,000, would forget tokens. */
const PEER_MAX_TOKENS = 1_000_000;

await runScenario(
  {
    name: 'introspect',
    title: 'introspection (RFC 7662) by the resource server, of active tokens issued for it',
    load: 'POST token=<access token> with the resource server\'s credentials; every 2xx body must say "active":true',
    start: {
      async mandate(ctx) {
        const { options } = ctx;
        const m = await startMandate(mandateStart(ctx));
        return prepare(
          'mandate',
          {
            server: m.server,
            origins: originsOf(m),
            agentAuthorization: basicAuthorization(m.clientId, m.clientSecret),
            agentId: m.clientId,
            introspectionAuthorization: `Bearer ${m.apiKey}`,
            settings: { ...m.settings, accessTokens: 'ES256 JWT (its signature check is cached per token; revocation and agent status are read per call)' },
            close: m.close,
          },
          options,
        );
      },
      async 'oidc-provider'({ core, options }) {
        if (options.tokens > PEER_MAX_TOKENS) throw new Error(`the peer's memory adapter keeps ${PEER_MAX_TOKENS} entries; use --tokens ≤ ${PEER_MAX_TOKENS} or --servers mandate`);
        const p = await startPeer({ core, accessTokenFormat: 'opaque' });
        return prepare(
          'oidc-provider',
          {
            server: p.server,
            agentAuthorization: basicAuthorization(p.agentId, p.agentSecret),
            agentId: p.agentId,
            introspectionAuthorization: basicAuthorization(p.resourceClientId, p.resourceSecret),
            settings: p.settings,
            close: p.close,
          },
          options,
        );
      },
    },
  },
  process.argv.slice(2),
);
