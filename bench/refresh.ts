/**
 * `npm run bench -- refresh`: the refresh token grant (RFC 6749 §6) with rotation on both servers (each use returns
 * a new refresh token and retires the one presented; oidc-provider set to `rotateRefreshToken: true`), for a
 * confidential web application (`client_secret_basic`); Mandate next to oidc-provider 9.
 *
 * Refresh tokens are single-use, so the setup obtains 2 × connections of them (code flows with `offline_access`)
 * and wrk's script keeps a pool: each request takes one, each response puts back the new one. A request that fails
 * loses its token and is counted.
 */
import { redeem, startMandateWithApp, startPeerWithApp, type WithApp } from './lib-app.ts';
import { authorizationQuery, mandateSignInAndConsent, peerSignInAndConsent } from './lib-browser.ts';
import { FORM_CONTENT_TYPE, REQUESTED_SCOPE } from './lib-fixture.ts';
import type { BenchOptions, ServerName } from './lib-options.ts';
import { type Prepared, runScenario } from './lib-scenario.ts';
import { luaString, type LoadRequest } from './lib-wrk.ts';

const SCOPE = `${REQUESTED_SCOPE} offline_access`;

function refreshLua(tokenPath: string, appAuthorization: string): string {
  return `
local tokenHeaders = { ["Authorization"] = ${luaString(appAuthorization)}, ["Content-Type"] = ${luaString(FORM_CONTENT_TYPE)} }
function request()
  local token = table.remove(seeds, 1) or "pool-exhausted"
  return wrk.format("POST", ${luaString(tokenPath)}, tokenHeaders, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, _, body)
  if status ~= 200 then
    non2xx = non2xx + 1
    return
  end
  local token = string.match(body, '"refresh_token":"([^"]+)"')
  if token and string.find(body, '"access_token":"', 1, true) then
    table.insert(seeds, token)
    units = units + 1
  else
    wrong = wrong + 1
  end
end
`;
}

async function prepare(name: ServerName, app: WithApp, options: BenchOptions, codeFor: (i: number) => Promise<string>): Promise<Prepared> {
  try {
    const count = 2 * options.connections;
    const seeds: string[] = [];
    let checked: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const body = await redeem(app, await codeFor(i));
      if (typeof body['refresh_token'] !== 'string') throw new Error(`${name}: no refresh token for scope "${SCOPE}": ${JSON.stringify(body)}`);
      seeds.push(body['refresh_token']);
    }
    // One rotation by hand: a new refresh token comes back, and the old one is refused.
    const rotate = (token: string) =>
      fetch(`${app.endpoints.origin}${app.endpoints.tokenPath}`, {
        method: 'POST',
        headers: { authorization: app.appAuthorization, 'content-type': FORM_CONTENT_TYPE },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
      });
    const old = seeds.shift()!;
    const rotated = (await (await rotate(old)).json()) as Record<string, unknown>;
    if (typeof rotated['refresh_token'] !== 'string' || rotated['refresh_token'] === old) throw new Error(`${name}: refresh did not rotate: ${JSON.stringify(rotated)}`);
    seeds.push(rotated['refresh_token']);
    checked = { scope: rotated['scope'], rotated: true, oldRefused: (await rotate(old)).status };
    if (checked['oldRefused'] !== 400) throw new Error(`${name}: the rotated-out refresh token was not refused (${String(checked['oldRefused'])})`);
    // Reusing the old token may revoke the family (Mandate: reuse detection); start the load from fresh tokens.
    const fresh: string[] = [];
    for (let i = 0; i < count; i++) fresh.push(((await redeem(app, await codeFor(count + i))) as Record<string, string>)['refresh_token']!);
    // Each run takes tokens from the pool it was given and leaves the rotated ones in wrk: the next run needs new ones.
    let generation = 0;
    const nextSeeds = async (): Promise<string[]> => {
      if (generation++ === 0) return fresh;
      const more: string[] = [];
      for (let i = 0; i < count; i++) more.push(((await redeem(app, await codeFor(generation * 1000 + i))) as Record<string, string>)['refresh_token']!);
      return more;
    };
    return {
      contender: {
        name,
        server: app.server,
        origin: app.endpoints.origin,
        origins: app.origins,
        async load(): Promise<LoadRequest> {
          return { path: app.endpoints.tokenPath, headers: {}, bodies: [''], expectInBody: '"refresh_token":"', flow: { lua: refreshLua(app.endpoints.tokenPath, app.appAuthorization), seedLines: await nextSeeds() } };
        },
        settings: { ...app.settings, flow: `refresh_token grant with rotation; ${count} refresh tokens in the pool (scope "${SCOPE}")` },
        checked,
      },
      close: app.close,
    };
  } catch (err) {
    await app.close();
    throw err;
  }
}

await runScenario(
  {
    name: 'refresh',
    title: 'refresh token grant with rotation, confidential web application',
    load: 'POST /token grant_type=refresh_token&refresh_token=<from the pool> with Basic; each 200 must carry a new refresh token, which goes back to the pool',
    start: {
      async mandate(ctx) {
        const app = await startMandateWithApp(ctx);
        const query = authorizationQuery(app.appId, SCOPE);
        let first = true;
        return prepare('mandate', app, ctx.options, async () => {
          if (first) {
            first = false;
            return mandateSignInAndConsent(app.browser, app.endpoints.authorizationPath, query);
          }
          return peerSignInAndConsent(app.browser, app.endpoints.authorizationPath, query);
        });
      },
      async 'oidc-provider'(ctx) {
        const app = await startPeerWithApp(ctx);
        // oidc-provider keeps offline_access only when the request asks for consent (prompt=consent): its interaction grants it.
        const query = authorizationQuery(app.appId, SCOPE, { prompt: 'consent' });
        return prepare('oidc-provider', app, ctx.options, () => peerSignInAndConsent(app.browser, app.endpoints.authorizationPath, query));
      },
    },
  },
  process.argv.slice(2),
);
