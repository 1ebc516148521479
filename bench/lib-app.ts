import { PKCE_VERIFIER, SetupBrowser } from './lib-browser.ts';
import { APP_REDIRECT_URI, APP_SCOPES, BENCH_USER_EMAIL, BENCH_USER_PASSWORD, basicAuthorization, discoverEndpoints, type Endpoints, FORM_CONTENT_TYPE } from './lib-fixture.ts';
import { type MandateCli, type MandateUnderTest, startMandate } from './lib-mandate.ts';
import { startPeer } from './lib-peer.ts';
import type { ServerProcess } from './lib-process.ts';
import { mandateStart, originsOf, type StartContext } from './lib-scenario.ts';

/** A server with a user, a confidential web application and a browser signed in with the user's consent remembered. */
export interface WithApp {
  server: ServerProcess;
  origins: string[];
  endpoints: Endpoints;
  appId: string;
  /** `Authorization: Basic` of the application. */
  appAuthorization: string;
  browser: SetupBrowser;
  settings: Record<string, unknown>;
  close(): Promise<void>;
  /** Mandate's, for scenarios that need more of it (agents, API key). */
  mandate?: MandateUnderTest;
}

/**
 * Mandate with BENCH_USER_EMAIL (password, via `mandate user create`) and `bench-app` (`mandate client create`:
 * confidential, the app's redirect URI and scopes). The browser is not signed in yet: see mandateSignInAndConsent.
 */
export async function startMandateWithApp(ctx: StartContext, more?: (cli: MandateCli) => void): Promise<WithApp> {
  let app: Record<string, string> = {};
  const m = await startMandate({
    ...mandateStart(ctx),
    setup(cli) {
      cli(['user', 'create', '--email', BENCH_USER_EMAIL, '--name', 'Bench User'], `${BENCH_USER_PASSWORD}\n`);
      app = cli(['client', 'create', '--name', 'bench-app', '--redirect-uri', APP_REDIRECT_URI, '--scope', APP_SCOPES.join(' ')]);
      more?.(cli);
    },
  });
  try {
    const endpoints = await discoverEndpoints(m.server.url);
    return {
      server: m.server,
      origins: originsOf(m),
      endpoints,
      appId: app['client_id']!,
      appAuthorization: basicAuthorization(app['client_id']!, app['client_secret']!),
      browser: new SetupBrowser(endpoints.origin),
      settings: m.settings,
      close: m.close,
      mandate: m,
    };
  } catch (err) {
    await m.close();
    throw err;
  }
}

/** oidc-provider with `bench-app` (lib-oidc-provider-peer.ts) and a browser for its interactions. */
export async function startPeerWithApp(ctx: StartContext): Promise<WithApp> {
  const p = await startPeer({ core: ctx.core, accessTokenFormat: 'jwt' });
  try {
    const endpoints = await discoverEndpoints(p.server.url);
    return {
      server: p.server,
      origins: [endpoints.origin],
      endpoints,
      appId: p.appId,
      appAuthorization: basicAuthorization(p.appId, p.appSecret),
      browser: new SetupBrowser(endpoints.origin),
      settings: p.settings,
      close: p.close,
    };
  } catch (err) {
    await p.close();
    throw err;
  }
}

/** Redeems a code at the token endpoint; fails unless it gives an access token. */
export async function redeem(app: WithApp, code: string, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${app.endpoints.origin}${app.endpoints.tokenPath}`, {
    method: 'POST',
    headers: { authorization: app.appAuthorization, 'content-type': FORM_CONTENT_TYPE },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: PKCE_VERIFIER, redirect_uri: APP_REDIRECT_URI, ...extra }).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200 || typeof body['access_token'] !== 'string') throw new Error(`code redemption answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

