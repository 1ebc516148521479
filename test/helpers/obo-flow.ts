import { Browser, obtainCode, PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import type { TestServer } from '../../packages/server/test/helpers/server.ts';
import { runCli, runCliJson } from './processes.ts';

/**
 * A user's on-behalf-of authorization against a `mandate serve` process (draft-oauth-ai-agents-on-behalf-of-user-02):
 * the user logs in and consents in a cookie-jar "browser" over real HTTP, naming the agent as `requested_actor`;
 * the application redeems the code with the agent's actor token (its own token for the issuer) as `actor_token`.
 */

export interface Credentials {
  client_id: string;
  client_secret: string;
}

function basic({ client_id, client_secret }: Credentials): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`).toString('base64')}`;
}

/** POSTs a form to the AS's token endpoint as `client`; resolves with the parsed answer, rejects unless 200. */
export async function tokenRequest(issuer: string, client: Credentials, form: Record<string, string>): Promise<{ access_token: string }> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${body}`);
  return JSON.parse(body) as { access_token: string };
}

/** Creates a user (password from stdin, as an operator would) and an application allowed `scope` at `resource`. */
export async function createUserAndApp(env: NodeJS.ProcessEnv, email: string, scope: string, resource: string): Promise<Credentials> {
  await runCli(['user', 'create', '--email', email, '--name', 'Ada Lovelace'], env, `${PASSWORD}\n`);
  return runCliJson<Credentials>(['client', 'create', '--name', 'Demo app', '--redirect-uri', 'https://app.example.com/callback', '--scope', scope, '--audience', resource], env);
}

/** The OBO access token: `sub` = the user, `act` = the agent. */
export async function onBehalfOfToken(issuer: string, options: { app: Credentials; agent: Credentials; email: string; scope: string; resource: string }): Promise<string> {
  // obtainCode reads only `issuer` of its server argument.
  const server = { issuer } as TestServer;
  const { code, verifier } = await obtainCode(
    server,
    { clientId: options.app.client_id, scope: options.scope, resource: options.resource, requestedActor: options.agent.client_id, email: options.email },
    new Browser(),
  );
  const actorToken = await actorTokenOf(issuer, options.agent);
  const response = await tokenRequest(issuer, options.app, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: 'https://app.example.com/callback',
    actor_token: actorToken,
    actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  });
  return response.access_token;
}

/** The agent's actor token (SR-04): `client_credentials` with `resource` = the issuer. */
async function actorTokenOf(issuer: string, agent: Credentials): Promise<string> {
  return (await tokenRequest(issuer, agent, { grant_type: 'client_credentials', resource: issuer })).access_token;
}

/** RFC 8693 token exchange by `actor` (with its actor token as `actor_token`); `target` is `audience` or `resource`. */
export async function exchangeToken(issuer: string, actor: Credentials, subjectToken: string, target: { audience?: string; resource?: string }): Promise<string> {
  const actorToken = await actorTokenOf(issuer, actor);
  const response = await tokenRequest(issuer, actor, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    actor_token: actorToken,
    actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    ...target,
  });
  return response.access_token;
}
