import { type WithApp, redeem, startMandateWithApp } from './lib-app.ts';
import { authorizationQuery, mandateSignInAndConsent } from './lib-browser.ts';
import { AGENT_SCOPES, basicAuthorization, FORM_CONTENT_TYPE, RESOURCE, REQUESTED_SCOPE } from './lib-fixture.ts';
import type { StartContext } from './lib-scenario.ts';

export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** The measured hop, ready to send over and over: agent B exchanges the token agent A handed it. */
export interface TwoHop {
  app: WithApp;
  /** `Authorization: Basic` of agent B. */
  authorization: string;
  /** The form body: subject_token = A's hand-off, actor_token = B's own token for the issuer, resource and scope. */
  body: string;
  /** What one exchange returned, decoded: its `act` chain. */
  checked: Record<string, unknown>;
  /**
   * A new body for the same hop: A's hand-off and B's actor token again, fresh. Both live at most 300 s (an actor
   * token's limit, and the hand-off never outlives A's): a run longer than that (under valgrind) renews them.
   */
  renew(): Promise<string>;
}

type Agent = { client_id: string; client_secret: string };
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

async function post(app: WithApp, authorization: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${app.endpoints.origin}${app.endpoints.tokenPath}`, {
    method: 'POST',
    headers: { authorization, 'content-type': FORM_CONTENT_TYPE, ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** An agent's own token for the authorization server: its `actor_token` (SR-04). */
const actorToken = async (app: WithApp, agent: Agent) =>
  (await post(app, basicAuthorization(agent.client_id, agent.client_secret), { grant_type: 'client_credentials', resource: app.endpoints.issuer }))['access_token'] as string;

/**
 * Mandate with a user, a web application and agents A and B; then, as in docs/users-and-delegation.md: the user
 * authorizes the application to have agent A act (code flow with `requested_actor`, the code redeemed with A's
 * actor token: `sub` = user, `act` = A), A hands the token to B (exchange with `audience` = B), and the load is
 * B's exchange of it for the MCP resource: a token whose `act` chain is B → A, two levels, with the user at the root.
 */
export async function startTwoHop(ctx: StartContext): Promise<TwoHop> {
  let a!: Agent;
  let b!: Agent;
  const app = await startMandateWithApp(ctx, (cli) => {
    a = cli(['agent', 'create', '--name', 'agent-a', '--scope', AGENT_SCOPES.join(' '), '--audience', RESOURCE]) as Agent;
    b = cli(['agent', 'create', '--name', 'agent-b', '--scope', AGENT_SCOPES.join(' '), '--audience', RESOURCE]) as Agent;
  });
  try {
    const query = authorizationQuery(app.appId, REQUESTED_SCOPE, { requested_actor: a.client_id });
    const code = await mandateSignInAndConsent(app.browser, app.endpoints.authorizationPath, query);
    const root = (await redeem(app, code, { actor_token: await actorToken(app, a), actor_token_type: TOKEN_TYPE_ACCESS_TOKEN }))['access_token'] as string;
    const aAuthorization = basicAuthorization(a.client_id, a.client_secret);
    const hop = async () => {
      const handOff = (await post(app, aAuthorization, {
        grant_type: GRANT_TOKEN_EXCHANGE,
        subject_token: root,
        subject_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        actor_token: await actorToken(app, a),
        actor_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        audience: b.client_id,
      }))['access_token'] as string;
      return {
        grant_type: GRANT_TOKEN_EXCHANGE,
        subject_token: handOff,
        subject_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        actor_token: await actorToken(app, b),
        actor_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        resource: RESOURCE,
        scope: REQUESTED_SCOPE,
      };
    };
    const form = await hop();
    const authorization = basicAuthorization(b.client_id, b.client_secret);
    const claims = claimsOf((await post(app, authorization, form))['access_token'] as string);
    const act = claims['act'] as { sub?: string; act?: { sub?: string; act?: unknown } } | undefined;
    if (act?.sub !== b.client_id || act.act?.sub !== a.client_id || act.act.act !== undefined) {
      throw new Error(`the exchanged token's act chain is not B → A: ${JSON.stringify(act)}`);
    }
    return {
      app,
      authorization,
      body: new URLSearchParams(form).toString(),
      checked: { sub: claims['sub'], aud: claims['aud'], scope: claims['scope'], act, rootIsUser: String(claims['sub']).startsWith('usr_') },
      renew: async () => new URLSearchParams(await hop()).toString(),
    };
  } catch (err) {
    await app.close();
    throw err;
  }
}
