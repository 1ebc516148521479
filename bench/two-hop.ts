/**
 * `npm run bench -- two-hop`: RFC 8693 token exchange at full speed, the second hop of a delegation chain (user →
 * agent A → agent B; the issued token's `act` is B → A). Mandate alone: oidc-provider has no token exchange in its
 * core (its maintainer's answer is "implement it with registerGrantType", i.e. write it yourself: that would measure
 * our code on Koa, not a peer), so there is no ratio. For latency at a fixed rate, with and without DPoP, see
 * `npm run bench -- exchange`.
 */
import { startTwoHop } from './lib-exchange.ts';
import { FORM_CONTENT_TYPE } from './lib-fixture.ts';
import { type Prepared, runScenario } from './lib-scenario.ts';

await runScenario(
  {
    name: 'two-hop',
    title: 'token exchange (RFC 8693), second hop of user → agent A → agent B: act chain of two levels',
    load: 'POST /token grant_type=token-exchange, subject_token = A\'s hand-off to B, actor_token = B\'s own token, resource + scope, Basic of B; every 2xx must hold an access_token',
    servers: ['mandate'],
    start: {
      async mandate(ctx): Promise<Prepared> {
        const hop = await startTwoHop(ctx);
        const load = { path: hop.app.endpoints.tokenPath, headers: { authorization: hop.authorization, 'content-type': FORM_CONTENT_TYPE }, bodies: [hop.body], expectInBody: '"access_token":"' };
        return {
          contender: {
            name: 'mandate',
            server: hop.app.server,
            origin: hop.app.endpoints.origin,
            origins: hop.app.origins,
            load: async () => load,
            settings: { ...hop.app.settings, peer: 'none: oidc-provider has no RFC 8693 token exchange in its core' },
            checked: hop.checked,
          },
          close: hop.app.close,
        };
      },
    },
  },
  process.argv.slice(2),
);
