/**
 * `npm run bench -- register`: dynamic client registration (RFC 7591), open on both servers (Mandate's default;
 * oidc-provider's `features.registration`), of a confidential web client; Mandate next to oidc-provider 9. Every
 * request registers a new client (a new id and secret, stored: Mandate keeps the secret's hash, the peer its
 * in-memory adapter the client). Mandate's registration rate limit per address (default 20/min) is raised as its
 * token rate limits are: it still runs on every request.
 */
import { discoverEndpoints } from './lib-fixture.ts';
import { MANDATE_RATE_LIMIT_PER_MINUTE, startMandate } from './lib-mandate.ts';
import type { ServerName } from './lib-options.ts';
import { startPeer } from './lib-peer.ts';
import type { ServerProcess } from './lib-process.ts';
import { mandateStart, originsOf, type Prepared, runScenario } from './lib-scenario.ts';
import type { LoadRequest } from './lib-wrk.ts';

export const REGISTRATION = JSON.stringify({
  client_name: 'bench client',
  redirect_uris: ['https://app.example.test/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'files:read',
});

async function prepare(name: ServerName, server: ServerProcess, origins: string[] | undefined, settings: Record<string, unknown>, close: () => Promise<void>): Promise<Prepared> {
  try {
    const endpoints = await discoverEndpoints(server.url);
    if (!endpoints.registrationPath) throw new Error(`${name} announces no registration_endpoint`);
    const response = await fetch(`${endpoints.origin}${endpoints.registrationPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REGISTRATION });
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 201 || typeof body['client_id'] !== 'string' || typeof body['client_secret'] !== 'string') {
      throw new Error(`${name}: registration answered ${response.status}: ${JSON.stringify(body)}`);
    }
    const load: LoadRequest = { path: endpoints.registrationPath, headers: { 'content-type': 'application/json' }, bodies: [REGISTRATION], expectInBody: '"client_secret":"' };
    return {
      contender: {
        name,
        server,
        origin: endpoints.origin,
        ...(origins ? { origins } : {}),
        load: async () => load,
        settings,
        checked: { status: response.status, responseKeys: Object.keys(body) },
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

await runScenario(
  {
    name: 'register',
    title: 'dynamic client registration (RFC 7591), open, confidential web client',
    load: `POST /register ${REGISTRATION}; every 2xx body must hold a client_secret`,
    start: {
      async mandate(ctx) {
        const limit = String(Math.min(MANDATE_RATE_LIMIT_PER_MINUTE, 1_000_000));
        const m = await startMandate({ ...mandateStart(ctx), env: { MANDATE_REGISTRATION_RATE_LIMIT: limit } });
        return prepare('mandate', m.server, originsOf(m), m.settings, m.close);
      },
      async 'oidc-provider'(ctx) {
        const p = await startPeer({ core: ctx.core, accessTokenFormat: 'jwt' });
        return prepare('oidc-provider', p.server, undefined, { ...p.settings, registration: 'features.registration: { enabled: true } (open)' }, p.close);
      },
    },
  },
  process.argv.slice(2),
);
