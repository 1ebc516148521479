/**
 * `npm run bench -- sdk-verify`: a resource server verifying JWT access tokens locally, per request over HTTP: the
 * @mandate/sdk `createVerifier` next to jose's `jwtVerify` with a remote JWKS, on the same tokens (1,000 distinct
 * ES256 tokens Mandate issued, cycled), each in a resource-server process of its own (lib-resource-server.ts) pinned
 * as the servers are. Mandate itself only issues the tokens and serves its metadata and JWKS (fetched once by each
 * verifier before the load); it is not under load. In-process throughput of the same verifiers: `bench -- verify`.
 */
import { discoverEndpoints, issueTokens, basicAuthorization, RESOURCE } from './lib-fixture.ts';
import { startMandate, type MandateUnderTest } from './lib-mandate.ts';
import type { ServerName } from './lib-options.ts';
import { startServerProcess } from './lib-process.ts';
import { type Prepared, runScenario, type StartContext } from './lib-scenario.ts';
import type { LoadRequest } from './lib-wrk.ts';

const RESOURCE_SERVER = new URL('./lib-resource-server.ts', import.meta.url).pathname;
const TOKENS = 1000;

/** GET /mcp with `Authorization: Bearer <token>`, the tokens cycled; 200 with the subject is one unit. */
const CYCLE_TOKENS_LUA = `
local k, prepared = 0, nil
function request()
  if not prepared then
    prepared = {}
    for j, token in ipairs(seeds) do prepared[j] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token }) end
  end
  k = k % #prepared + 1
  return prepared[k]
end

function response(status, _, body)
  if status ~= 200 then non2xx = non2xx + 1
  elseif string.find(body, expect, 1, true) then units = units + 1
  else wrong = wrong + 1 end
end
`;

/** One Mandate for both verifiers (the issuer of the tokens), started unpinned and idle during the load. */
let issuer: Promise<{ m: MandateUnderTest; tokens: string[] }> | null = null;
let users = 0;
function sharedIssuer(ctx: StartContext) {
  issuer ??= (async () => {
    const m = await startMandate({ core: null, profileDir: null, store: ctx.options.store });
    const endpoints = await discoverEndpoints(m.server.url);
    return { m, tokens: await issueTokens(endpoints, basicAuthorization(m.clientId, m.clientSecret), TOKENS) };
  })();
  users++;
  return issuer;
}

async function startVerifier(name: ServerName, kind: 'sdk' | 'jose', ctx: StartContext): Promise<Prepared> {
  const { m, tokens } = await sharedIssuer(ctx);
  const close = async () => {
    if (--users === 0) await m.close();
  };
  try {
    const endpoints = await discoverEndpoints(m.server.url);
    const server = await startServerProcess({
      label: `resource server (${kind})`,
      args: [RESOURCE_SERVER],
      env: { ...process.env, NODE_ENV: 'production', RS_VERIFIER: kind, RS_ISSUER: endpoints.issuer, RS_AUDIENCE: RESOURCE, RS_JWKS_URL: endpoints.jwksUrl },
      core: ctx.core,
      readyUrl: (line) => /^resource server \(\w+\) listening on (\S+)/.exec(line)?.[1],
    });
    const first = await fetch(`${server.url}/mcp`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    const body = (await first.json()) as Record<string, unknown>;
    if (first.status !== 200 || body['sub'] !== m.clientId) throw new Error(`${kind} resource server answered ${first.status}: ${JSON.stringify(body)}`);
    const refused = await fetch(`${server.url}/mcp`, { headers: { authorization: `Bearer ${tokens[0]!.slice(0, -4)}AAAA` } });
    if (refused.status !== 401) throw new Error(`${kind} resource server accepted a token with a broken signature (${refused.status})`);
    const load: LoadRequest = { path: '/mcp', method: 'GET', headers: {}, bodies: [''], expectInBody: '"ok":true', flow: { lua: CYCLE_TOKENS_LUA, seedLines: tokens } };
    return {
      contender: {
        name,
        label: kind === 'sdk' ? 'mandate-sdk' : 'jose',
        server,
        origin: server.url,
        load: async () => load,
        settings: { verifier: kind === 'sdk' ? '@mandate/sdk createVerifier (ES256)' : 'jose jwtVerify + createRemoteJWKSet (ES256)', tokens: TOKENS, http: 'node:http, keep-alive' },
        checked: { sub: body['sub'], brokenSignature: refused.status },
      },
      async close() {
        await server.stop();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

await runScenario(
  {
    name: 'sdk-verify',
    title: 'resource server: local JWT access-token verification per request (@mandate/sdk createVerifier vs jose jwtVerify)',
    load: `GET /mcp with Authorization: Bearer <one of ${TOKENS} Mandate ES256 tokens, cycled>; every 200 must carry the subject`,
    start: {
      mandate: (ctx) => startVerifier('mandate', 'sdk', ctx),
      'oidc-provider': (ctx) => startVerifier('oidc-provider', 'jose', ctx),
    },
  },
  process.argv.slice(2),
);
