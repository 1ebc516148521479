/**
 * `npm run bench -- cc`: client_credentials token requests (RFC 6749 §4.4, `client_secret_basic`, one RFC 8707
 * resource, one scope), each answered with an ES256 RFC 9068 JWT; Mandate next to oidc-provider 9.
 */
import { checkAccessToken } from './lib-jwt-check.ts';
import { ACCESS_TOKEN_TTL_SECONDS, basicAuthorization, CLIENT_CREDENTIALS_BODY, discoverEndpoints, FORM_CONTENT_TYPE, issueTokens, RESOURCE, REQUESTED_SCOPE } from './lib-fixture.ts';
import { startMandate } from './lib-mandate.ts';
import type { ServerName } from './lib-options.ts';
import { startPeer } from './lib-peer.ts';
import type { ServerProcess } from './lib-process.ts';
import type { LoadRequest } from './lib-wrk.ts';
import { mandateStart, originsOf, type Prepared, runScenario } from './lib-scenario.ts';

interface Started {
  server: ServerProcess;
  origins?: string[];
  clientId: string;
  clientSecret: string;
  settings: Record<string, unknown>;
  close(): Promise<void>;
}

/** Issues and checks one token, then describes the load: the same request, over and over. */
async function prepare(name: ServerName, started: Started): Promise<Prepared> {
  try {
    const endpoints = await discoverEndpoints(started.server.url);
    const authorization = basicAuthorization(started.clientId, started.clientSecret);
    const [token] = await issueTokens(endpoints, authorization, 1);
    const load: LoadRequest = {
      path: endpoints.tokenPath,
      headers: { authorization, 'content-type': FORM_CONTENT_TYPE },
      bodies: [CLIENT_CREDENTIALS_BODY],
      expectInBody: '"access_token":"',
    };
    const { header, claims } = await checkAccessToken(token!, {
      issuer: endpoints.issuer,
      jwksUrl: endpoints.jwksUrl,
      clientId: started.clientId,
      audience: RESOURCE,
      scope: REQUESTED_SCOPE,
      lifetimeSeconds: ACCESS_TOKEN_TTL_SECONDS,
    });
    return {
      contender: {
        name,
        server: started.server,
        origin: endpoints.origin,
        ...(started.origins ? { origins: started.origins } : {}),
        load: async () => load,
        settings: started.settings,
        checked: { alg: header['alg'], typ: header['typ'], aud: claims['aud'], scope: claims['scope'], sub: claims['sub'], tokenBytes: token!.length },
      },
      close: started.close,
    };
  } catch (err) {
    await started.close();
    throw err;
  }
}

await runScenario(
  {
    name: 'cc',
    title: 'client_credentials: ES256 JWT access tokens (RFC 9068), client_secret_basic',
    load: `POST /token grant_type=client_credentials&scope=${REQUESTED_SCOPE}&resource=${RESOURCE} with Authorization: Basic; every 2xx body must hold an access_token`,
    start: {
      async mandate(ctx) {
        const m = await startMandate(mandateStart(ctx));
        return prepare('mandate', { ...m, origins: originsOf(m) });
      },
      async 'oidc-provider'({ core }) {
        const p = await startPeer({ core, accessTokenFormat: 'jwt' });
        return prepare('oidc-provider', { server: p.server, clientId: p.agentId, clientSecret: p.agentSecret, settings: p.settings, close: p.close });
      },
    },
  },
  process.argv.slice(2),
);
