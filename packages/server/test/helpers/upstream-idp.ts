import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { TestServer } from './server.ts';
import type { Browser } from './user-flow.ts';

const unescape = (v: string) => v.replace(/&amp;/g, '&').replace(/&#x2F;/g, '/').replace(/&#x3D;/g, '=');

export interface UpstreamIdp {
  issuer: string;
  /** Starts answering as an OpenID provider with one confidential client, `mandate`, for these redirect URIs. */
  serve(redirectUris: string[], claimsFor: (accountId: string) => Record<string, unknown>): void;
  close(): Promise<void>;
}

/**
 * A real upstream OpenID provider for login tests: panva's oidc-provider with its development login and consent
 * pages. It listens first (Mandate's config needs its issuer) and serves once Mandate's redirect URIs are known.
 */
export async function listenUpstreamIdp(): Promise<UpstreamIdp> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(http.address() as AddressInfo).port}`;
  return {
    issuer,
    serve(redirectUris, claimsFor) {
      const provider = new Provider(issuer, {
        clients: [{ client_id: 'mandate', client_secret: 'upstream-secret', redirect_uris: redirectUris }],
        async findAccount(_ctx, id) {
          return { accountId: id, claims: async () => ({ sub: id, ...claimsFor(id) }) };
        },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        features: { devInteractions: { enabled: true } },
      });
      http.on('request', provider.callback());
    },
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** Starts the upstream login from Mandate's login page and signs in at the IdP as `login`; returns Mandate's answer to the callback. */
export interface UpstreamLoginOptions {
  /** The `return_to` the login page is opened with and posts (default `/account`). */
  returnTo?: string;
  /** Called with our callback URL (code and state included) before the browser follows it. */
  atCallback?: (url: string) => Promise<void>;
}

export async function upstreamLogin(server: TestServer, idpIssuer: string, browser: Browser, providerId: string, login: string, options: UpstreamLoginOptions = {}): Promise<Response> {
  const returnTo = options.returnTo ?? '/account';
  const page = await (await browser.fetch(`${server.issuer}/login?${new URLSearchParams({ return_to: returnTo })}`)).text();
  const csrf = /name="csrf" value="([^"]*)"/.exec(page)![1]!;
  let response = await browser.postForm(`${server.issuer}/login/upstream/${providerId}`, { csrf, return_to: returnTo });
  assert.equal(response.status, 303);
  const authorize = new URL(response.headers.get('location')!);
  assert.equal(authorize.origin, idpIssuer);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(authorize.searchParams.get('nonce'));
  let url = authorize.href;
  for (let hop = 0; hop < 20; hop++) {
    response = await browser.fetch(url);
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      if (url.startsWith(server.issuer)) {
        await options.atCallback?.(url);
        return browser.fetch(url);
      }
      continue;
    }
    const html = await response.text();
    const action = unescape(/<form[^>]*action="([^"]+)"/.exec(html)![1]!);
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)![1]!;
    const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt };
    response = await browser.postForm(new URL(action, url).href, form);
    url = new URL(response.headers.get('location')!, url).href;
  }
  throw new Error('the upstream login did not come back');
}
