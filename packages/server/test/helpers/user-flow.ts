import { createHash, randomBytes } from 'node:crypto';
import { basicAuth, type TestServer } from './server.ts';

/** A cookie jar over fetch, with redirects left to the caller (tests assert on each hop). */
export class Browser {
  readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  postForm(url: string, params: Record<string, string>): Promise<Response> {
    return this.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  }
}

const unescape = (value: string) => value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The value of a named hidden/text input in a page. */
export function inputValue(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!match) throw new Error(`no input ${name} in page`);
  return unescape(match[1]!);
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export const PASSWORD = 'correct horse battery staple';

export async function createUser(server: TestServer, email: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await server.admin('POST', '/users', { email, password: PASSWORD, name: 'Ada Lovelace', ...extra });
  if (response.status !== 201) throw new Error(`user creation failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** A browser signed in as `email` (made by `createUser`) through the password form, with the login page's own CSRF token. */
export async function signedInBrowser(server: TestServer, email: string): Promise<Browser> {
  const browser = new Browser();
  const login = await (await browser.fetch(`${server.issuer}/login`)).text();
  const response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(login, 'csrf'), return_to: '/account', email, password: PASSWORD });
  if (response.status !== 303) throw new Error(`sign-in failed: ${response.status}`);
  return browser;
}

/** A page below the issuer as `browser` sees it. */
export async function fetchPage(server: TestServer, browser: Browser, path: string): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await browser.fetch(`${server.issuer}${path}`);
  return { status: response.status, body: await response.text(), headers: response.headers };
}

export async function createApp(server: TestServer, body: Record<string, unknown> = {}): Promise<{ clientId: string; clientSecret?: string }> {
  const response = await server.admin('POST', '/clients', { name: 'Demo App', redirect_uris: ['https://app.example.com/callback'], scopes: ['calc', 'files:read', 'exec'], ...body });
  if (response.status !== 201) throw new Error(`client creation failed: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as { client_id: string; client_secret?: string };
  return { clientId: created.client_id, ...(created.client_secret ? { clientSecret: created.client_secret } : {}) };
}

export interface AuthorizeOptions {
  email?: string;
  password?: string;
  decision?: 'approve' | 'deny';
  remember?: boolean;
}

/**
 * Drives a browser through GET /authorize → login → consent, over real HTTP with the forms' CSRF tokens, and
 * returns the final redirect to the client (or the response where the flow stopped).
 */
export async function authorizeInBrowser(server: TestServer, browser: Browser, params: Record<string, string | string[]>, options: AuthorizeOptions = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const value of [v].flat()) query.append(k, value);
  let response = await browser.fetch(`${server.issuer}/authorize?${query}`);
  if (response.status === 302 && new URL(response.headers.get('location')!, server.issuer).pathname === '/login') {
    const loginUrl = new URL(response.headers.get('location')!, server.issuer).href;
    const loginPage = await (await browser.fetch(loginUrl)).text();
    response = await browser.postForm(`${server.issuer}/login`, {
      csrf: inputValue(loginPage, 'csrf'),
      return_to: inputValue(loginPage, 'return_to'),
      email: options.email ?? 'ada@example.com',
      password: options.password ?? PASSWORD,
    });
    if (response.status !== 303) return { response, consentPage: undefined };
    response = await browser.fetch(new URL(response.headers.get('location')!, server.issuer).href);
  }
  if (response.status !== 200) return { response, consentPage: undefined };
  const consentPage = await response.text();
  const form: Record<string, string> = { csrf: inputValue(consentPage, 'csrf'), request: inputValue(consentPage, 'request'), decision: options.decision ?? 'approve' };
  if (options.remember !== false) form['remember'] = '1';
  response = await browser.postForm(`${server.issuer}/authorize/consent`, form);
  return { response, consentPage };
}

/** The `code` etc. of a redirect back to the client. */
export function redirectParams(response: Response): URLSearchParams {
  const location = response.headers.get('location');
  if (!location) throw new Error(`expected a redirect, got ${response.status}`);
  return new URL(location).searchParams;
}

export interface CodeFlowOptions {
  clientId: string;
  clientSecret?: string;
  scope: string;
  /** One `resource`, or several (RFC 8707 §2 allows repeating it). */
  resource?: string | readonly string[];
  requestedActor?: string;
  redirectUri?: string;
  nonce?: string;
  email?: string;
  /** More authorization request parameters (e.g. `dpop_jkt`). */
  extraParams?: Record<string, string>;
}

/** Runs the browser part of a code flow and returns the code with its PKCE verifier. */
export async function obtainCode(server: TestServer, options: CodeFlowOptions, browser = new Browser()): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const params: Record<string, string | string[]> = {
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri ?? 'https://app.example.com/callback',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st',
    scope: options.scope,
  };
  if (options.resource) params['resource'] = [options.resource].flat();
  if (options.requestedActor) params['requested_actor'] = options.requestedActor;
  if (options.nonce) params['nonce'] = options.nonce;
  Object.assign(params, options.extraParams);
  const { response } = await authorizeInBrowser(server, browser, params, { email: options.email });
  const code = redirectParams(response).get('code');
  if (!code) throw new Error(`no code: ${response.headers.get('location')}`);
  return { code, verifier };
}

/** Redeems a code at the token endpoint (public client by default, Basic auth with a secret). */
export function redeemCode(server: TestServer, options: CodeFlowOptions, code: string, verifier: string, extra: Record<string, string> = {}): Promise<Response> {
  const params: Record<string, string> = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: options.redirectUri ?? 'https://app.example.com/callback', ...extra };
  if (options.clientSecret) return server.postForm('/token', params, { authorization: basicAuth(options.clientId, options.clientSecret) });
  return server.postForm('/token', { ...params, client_id: options.clientId });
}

export async function agentToken(server: TestServer, agent: { clientId: string; clientSecret: string }, params: Record<string, string> = {}): Promise<string> {
  const response = await server.postForm('/token', { grant_type: 'client_credentials', ...params }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
  if (response.status !== 200) throw new Error(`agent token failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/**
 * The agent's actor token (SR-04): its own token for this authorization server (`resource` = the issuer), what a
 * token exchange or an on-behalf-of code redemption accepts as `actor_token`.
 */
export function actorToken(server: TestServer, agent: { clientId: string; clientSecret: string }): Promise<string> {
  return agentToken(server, agent, { resource: server.issuer });
}

/** Introspects with the resource's API key; true when active. */
export async function isActive(server: TestServer, apiKey: string, token: string): Promise<boolean> {
  const response = await server.postForm('/introspect', { token }, { authorization: `Bearer ${apiKey}` });
  return ((await response.json()) as { active: boolean }).active;
}

/**
 * A user's on-behalf-of token for `agent` at `resource`, through a new public application and a new user: the root
 * of a delegation chain.
 */
export async function onBehalfOfRoot(server: TestServer, agent: { clientId: string; clientSecret: string }, resource: string, email: string): Promise<{ token: string; appId: string }> {
  await createUser(server, email);
  const app = await createApp(server, { public: true });
  const options = { clientId: app.clientId, scope: 'openid calc', resource, requestedActor: agent.clientId, email };
  const { code, verifier } = await obtainCode(server, options);
  const body = (await (await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, agent) })).json()) as Record<string, string>;
  return { token: body['access_token']!, appId: app.clientId };
}

/** A token exchange by `by` (its actor token with it) of a subject access token; fails the test unless it succeeds. */
export async function exchangeAs(server: TestServer, by: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<string> {
  const AT = 'urn:ietf:params:oauth:token-type:access_token';
  const form = { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token_type: AT, actor_token: await actorToken(server, by), actor_token_type: AT, ...params };
  const response = await server.postForm('/token', form, { authorization: basicAuth(by.clientId, by.clientSecret) });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`exchange failed: ${response.status} ${JSON.stringify(body)}`);
  return body['access_token']!;
}
