/**
 * `npm run bench -- code`: the authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636, RFC 8707 resource), as
 * a web application runs it for a user who is signed in and consented before; Mandate next to oidc-provider 9.
 *
 * One flow = GET /authorize (the session cookie; consent remembered) → 302 to the application with a code →
 * POST /token (`client_secret_basic`, the code, its PKCE verifier) → an ES256 JWT access token. Codes are single-use,
 * so wrk's script queues the code from each redirect and redeems it with the connection's next request; req/s
 * counts complete flows, the latency columns each request (authorize and token alike).
 */
import { mandateSignInAndConsent, PKCE_VERIFIER, authorizationQuery, peerSignInAndConsent } from './lib-browser.ts';
import { redeem, startMandateWithApp, startPeerWithApp, type WithApp } from './lib-app.ts';
import { APP_REDIRECT_URI, FORM_CONTENT_TYPE, REQUESTED_SCOPE } from './lib-fixture.ts';
import type { ServerName } from './lib-options.ts';
import { type Prepared, runScenario } from './lib-scenario.ts';
import { luaString, type LoadRequest } from './lib-wrk.ts';

/** Per connection: authorize, then redeem the code that came back; a redirect without a code counts as wrong. */
export function codeFlowLua(authorizePath: string, query: string, cookie: string, tokenPath: string, appAuthorization: string): string {
  const redeem = `grant_type=authorization_code&code_verifier=${PKCE_VERIFIER}&redirect_uri=${encodeURIComponent(APP_REDIRECT_URI)}&code=`;
  return `
local authorizeRequest, tokenHeaders, codes = nil, { ["Authorization"] = ${luaString(appAuthorization)}, ["Content-Type"] = ${luaString(FORM_CONTENT_TYPE)} }, {}
function request()
  local code = table.remove(codes)
  if code then return wrk.format("POST", ${luaString(tokenPath)}, tokenHeaders, ${luaString(redeem)} .. code) end
  if not authorizeRequest then
    authorizeRequest = wrk.format("GET", ${luaString(`${authorizePath}?${query}`)}, { ["Cookie"] = ${luaString(cookie)} })
  end
  return authorizeRequest
end

function response(status, headers, body)
  local location = headers["location"] or headers["Location"]
  if status == 302 or status == 303 then
    local code = location and string.match(location, "[?&]code=([^&]+)")
    if code then table.insert(codes, code) else wrong = wrong + 1 end
  elseif status ~= 200 then
    non2xx = non2xx + 1
  elseif string.find(body, '"access_token":"', 1, true) then
    units = units + 1
  else
    wrong = wrong + 1
  end
end
`;
}

async function prepare(name: ServerName, app: WithApp, signIn: typeof mandateSignInAndConsent): Promise<Prepared> {
  try {
    const query = authorizationQuery(app.appId, REQUESTED_SCOPE);
    // The setup: sign in and consent once, redeem that first code, and check a second one comes without a page.
    const first = await signIn(app.browser, app.endpoints.authorizationPath, query);
    const token = await redeem(app, first);
    const again = await app.browser.follow(`${app.endpoints.authorizationPath}?${query}`);
    if (!again.url.startsWith(APP_REDIRECT_URI)) throw new Error(`${name}: a second authorization did not redirect with a code (${again.response.status} at ${again.url})`);
    await redeem(app, new URL(again.url).searchParams.get('code')!);
    const load: LoadRequest = {
      path: app.endpoints.authorizationPath,
      headers: {},
      bodies: [''],
      expectInBody: '"access_token":"',
      flow: { lua: codeFlowLua(app.endpoints.authorizationPath, query, app.browser.cookieHeader(), app.endpoints.tokenPath, app.appAuthorization), seedLines: [] },
    };
    return {
      contender: {
        name,
        server: app.server,
        origin: app.endpoints.origin,
        origins: app.origins,
        load: async () => load,
        settings: { ...app.settings, flow: 'session cookie + remembered consent → code → token (client_secret_basic, PKCE S256)' },
        checked: { scope: token['scope'], tokenType: token['token_type'], refreshToken: token['refresh_token'] !== undefined, cookies: [...app.browser.cookies.keys()] },
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
    name: 'code',
    title: 'authorization code + PKCE, full flow: signed-in user, consent remembered, confidential web application',
    load: 'GET /authorize (session cookie) → 302 with code → POST /token (code, code_verifier, Basic); one unit = one flow ending in an access token',
    unit: 'code flows',
    start: {
      mandate: async (ctx) => prepare('mandate', await startMandateWithApp(ctx), mandateSignInAndConsent),
      'oidc-provider': async (ctx) => prepare('oidc-provider', await startPeerWithApp(ctx), peerSignInAndConsent),
    },
  },
  process.argv.slice(2),
);
