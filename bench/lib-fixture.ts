/** What both servers are configured with, so they do the same work per request. */
export const RESOURCE = 'https://mcp.example.test/mcp';
/** The agent may have both; each token request asks for one, as an MCP client asking for what a tool needs. */
export const AGENT_SCOPES = ['calc', 'files:read'] as const;
export const REQUESTED_SCOPE = 'files:read';
export const ACCESS_TOKEN_TTL_SECONDS = 900;

/** The web application of the code flow and refresh benchmarks (confidential, client_secret_basic, PKCE). */
export const APP_REDIRECT_URI = 'https://app.example.test/callback';
export const APP_SCOPES = ['calc', 'files:read', 'offline_access'] as const;
/** The one user, signed in once before the load. */
export const BENCH_USER_EMAIL = 'bench-user@example.test';
export const BENCH_USER_PASSWORD = 'bench correct horse battery staple';

/** RFC 6749 §4.4.2 request body with an RFC 8707 resource indicator. */
export const CLIENT_CREDENTIALS_BODY = new URLSearchParams({
  grant_type: 'client_credentials',
  scope: REQUESTED_SCOPE,
  resource: RESOURCE,
}).toString();

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Endpoints a server announces in its discovery document (both serve `/.well-known/openid-configuration`). */
export interface Endpoints {
  issuer: string;
  /** Same origin as the issuer, with 127.0.0.1 for the host: what wrk connects to. */
  origin: string;
  tokenPath: string;
  introspectionPath: string;
  jwksUrl: string;
  authorizationPath: string;
  registrationPath: string | undefined;
  /** The token endpoint as the server names it (what a DPoP proof's `htu` must be). */
  tokenEndpoint: string;
}

export async function discoverEndpoints(baseUrl: string): Promise<Endpoints> {
  const response = await fetch(`${baseUrl}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery at ${baseUrl} answered ${response.status}`);
  const meta = (await response.json()) as Record<string, string>;
  const token = new URL(meta['token_endpoint']!);
  const origin = `${token.protocol}//127.0.0.1:${token.port}`;
  return {
    issuer: meta['issuer']!,
    origin,
    tokenPath: token.pathname,
    introspectionPath: new URL(meta['introspection_endpoint']!).pathname,
    jwksUrl: `${origin}${new URL(meta['jwks_uri']!).pathname}`,
    authorizationPath: new URL(meta['authorization_endpoint']!).pathname,
    registrationPath: meta['registration_endpoint'] ? new URL(meta['registration_endpoint']).pathname : undefined,
    tokenEndpoint: meta['token_endpoint']!,
  };
}

/** Issues `count` tokens with `client_credentials`, 32 requests in flight; fails on any non-200. */
export async function issueTokens(endpoints: Endpoints, authorization: string, count: number): Promise<string[]> {
  const tokens: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const response = await fetch(`${endpoints.origin}${endpoints.tokenPath}`, {
        method: 'POST',
        headers: { authorization, 'content-type': FORM_CONTENT_TYPE },
        body: CLIENT_CREDENTIALS_BODY,
      });
      const json = (await response.json()) as { access_token?: string };
      if (response.status !== 200 || !json.access_token) throw new Error(`token request answered ${response.status}: ${JSON.stringify(json)}`);
      tokens[i] = json.access_token;
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, count) }, worker));
  return tokens;
}
