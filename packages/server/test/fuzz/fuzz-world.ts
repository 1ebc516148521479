import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { exportJWK } from 'jose';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { actorToken, Browser, type CodeFlowOptions, createApp, createUser, obtainCode, onBehalfOfRoot, redeemCode } from '../helpers/user-flow.ts';
import type { JwtKey } from './hostile-jwt.ts';

/**
 * The records every fuzz target builds its inputs from: a server on one store with every per-minute ceiling off
 * (a 429 would hide the code under test), and one of each kind of valid credential, so that each input can be valid
 * but for what the generator changed.
 */
export interface FuzzWorld {
  server: TestServer;
  agent: { clientId: string; clientSecret: string };
  apiKey: string;
  agentToken: string;
  /** A private_key_jwt agent and its key (client assertions). */
  keyed: { clientId: string; key: JwtKey };
  /** A DPoP key (proofs). */
  dpop: JwtKey;
  /** A public app with a user's refresh token and OpenID access token from a code flow. */
  app: { clientId: string; refreshToken: string; userToken: string; email: string };
  /** The server's own signing key is not ours: resource tokens are forged with this key, published nowhere. */
  forger: JwtKey;
  /** The app's code flow and the user's browser, signed in with consent remembered: each new code is one GET /authorize. */
  flow: CodeFlowOptions;
  browser: Browser;
  /** Another public app, and another agent (a hand-off audience), for parties that must not match. */
  otherApp: { clientId: string };
  otherAgent: { clientId: string; clientSecret: string };
  /** A user's on-behalf-of token for `agent` (the root of a chain) and the agent's actor token: a valid exchange. */
  delegation: { subjectToken: string; actorToken: string; otherActorToken: string };
  /** An issuer the server trusts for RFC 7523 `jwt-bearer` grants (inline key, subjects by email) and a client allowed them. */
  workload: { issuer: string; key: JwtKey; client: { clientId: string; clientSecret: string } };
}

export const WORKLOAD_ISSUER = 'https://workloads.example';

/** A new authorization code of the world's app and user, with its PKCE verifier, through the real /authorize. */
export function freshCode(world: FuzzWorld): Promise<{ code: string; verifier: string }> {
  return obtainCode(world.server, world.flow, world.browser);
}

async function ecKey(kid: string): Promise<JwtKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, kid, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

export async function buildWorld(fixture: { url: string }): Promise<FuzzWorld> {
  const workloadKey = await ecKey('w1');
  const server = await startTestServer(fixture, {
    rateLimit: { tokenPerClientPerMinute: 0, tokenPerIpPerMinute: 0 },
    registration: { perIpPerMinute: 0 },
    device: { userCodeAttemptsPerIpPerMinute: 0, userCodeFailuresPerMinute: 0, requestsPerIpPerMinute: 0 },
    // Client ID Metadata Documents come from the test's own loopback server (document-targets.ts).
    clientMetadataDocuments: { allowHttpLocalhost: true },
    crossDomain: { trustedIssuers: [{ issuer: WORKLOAD_ISSUER, jwks: { keys: [workloadKey.publicJwk] }, subject: 'email', scopes: ['calc'] }] },
  });
  const registered = await registerAgentAndResource(server);
  const agent = { clientId: registered.clientId, clientSecret: registered.clientSecret };
  const tokenResponse = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
  const agentToken = ((await tokenResponse.json()) as { access_token: string }).access_token;

  const key = await ecKey('k1');
  const keyedResponse = await server.admin('POST', '/agents', {
    name: 'fuzz keyed agent', scopes: ['calc'], audiences: [MCP_RESOURCE], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] },
  });
  if (keyedResponse.status !== 201) throw new Error(`keyed agent: ${keyedResponse.status} ${await keyedResponse.text()}`);
  const keyedId = ((await keyedResponse.json()) as { client_id: string }).client_id;

  const email = `fuzz-${randomUUID()}@example.com`;
  await createUser(server, email);
  const app = await createApp(server, { public: true });
  const flow = { clientId: app.clientId, scope: 'openid calc offline_access', resource: MCP_RESOURCE, email };
  const browser = new Browser();
  const { code, verifier } = await obtainCode(server, flow, browser);
  const redeemed = (await (await redeemCode(server, flow, code, verifier)).json()) as Record<string, string>;
  if (!redeemed['access_token']) throw new Error(`code flow: ${JSON.stringify(redeemed)}`);
  const otherApp = await createApp(server, { public: true });
  const other = await registerAgentAndResource(server, { name: 'fuzz other agent' });
  const otherAgent = { clientId: other.clientId, clientSecret: other.clientSecret };
  const root = await onBehalfOfRoot(server, agent, MCP_RESOURCE, `fuzz-obo-${randomUUID()}@example.com`);
  if (!root.token) throw new Error('no on-behalf-of token');
  const delegation = { subjectToken: root.token, actorToken: await actorToken(server, agent), otherActorToken: await actorToken(server, otherAgent) };
  const workloadClient = await createApp(server, { grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'], audiences: [MCP_RESOURCE], scopes: ['calc', 'files:read'] });
  const workload = { issuer: WORKLOAD_ISSUER, key: workloadKey, client: { clientId: workloadClient.clientId, clientSecret: workloadClient.clientSecret! } };
  return {
    server,
    agent,
    apiKey: registered.apiKey,
    agentToken,
    keyed: { clientId: keyedId, key },
    dpop: await ecKey('dpop'),
    app: { clientId: app.clientId, refreshToken: redeemed['refresh_token'] ?? 'no-refresh-token', userToken: redeemed['access_token'], email },
    forger: await ecKey('forged'),
    flow,
    browser,
    otherApp,
    otherAgent,
    delegation,
    workload,
  };
}
