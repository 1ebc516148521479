import { createHash } from 'node:crypto';
import { APP_REDIRECT_URI, BENCH_USER_EMAIL, BENCH_USER_PASSWORD, FORM_CONTENT_TYPE, RESOURCE } from './lib-fixture.ts';

/**
 * The browser of the setup (never of the load): a cookie jar over fetch that follows redirects itself, always to
 * 127.0.0.1 (both servers listen there; their issuers say `localhost`), and stops at the application's redirect URI.
 */
export class SetupBrowser {
  readonly cookies = new Map<string, string>();
  readonly origin: string;

  constructor(origin: string) {
    this.origin = origin;
  }

  /** The Cookie header the load sends: the signed-in session, as this browser holds it. */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, this.origin);
    const local = new URL(`${target.pathname}${target.search}`, this.origin);
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', this.cookieHeader());
    const response = await fetch(local, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** GETs `url` and follows redirects (303 after a POST included) until a page or the application's redirect URI. */
  async follow(url: string, init: RequestInit = {}): Promise<{ response: Response; url: string }> {
    let response = await this.fetch(url, init);
    let at = url;
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      const location = response.headers.get('location')!;
      at = new URL(location, new URL(at, this.origin)).href;
      if (at.startsWith(APP_REDIRECT_URI)) return { response, url: at };
      response = await this.fetch(at);
    }
    return { response, url: at };
  }
}

/** One PKCE pair for every request of a run: the server's work (a SHA-256 of the verifier) is the same either way. */
export const PKCE_VERIFIER = 'bench-pkce-verifier-bench-pkce-verifier-bench-pkce-verifier-0123';
export const PKCE_CHALLENGE = createHash('sha256').update(PKCE_VERIFIER).digest('base64url');

/** The authorization request both servers get (RFC 6749 §4.1.1 with PKCE and an RFC 8707 resource). */
export function authorizationQuery(clientId: string, scope: string, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: APP_REDIRECT_URI,
    code_challenge: PKCE_CHALLENGE,
    code_challenge_method: 'S256',
    state: 'bench',
    scope,
    resource: RESOURCE,
    ...extra,
  }).toString();
}

/** The code in the redirect to the application, or an error naming what came back instead. */
export function codeFrom(url: string, response: Response): string {
  const code = url.startsWith(APP_REDIRECT_URI) ? new URL(url).searchParams.get('code') : null;
  if (!code) throw new Error(`no authorization code: ${response.status} at ${url}`);
  return code;
}

const unescapeHtml = (value: string) => value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
function inputValue(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!match) throw new Error(`no input ${name} in the page`);
  return unescapeHtml(match[1]!);
}

/**
 * Mandate: signs BENCH_USER_EMAIL in through the login form and answers the consent page with "remember", as a user
 * would, then returns the first code. Afterwards the session cookie alone gets codes: remembered consent, a
 * confidential client (RFC 8252 §8.6 makes public clients confirm every time).
 */
export async function mandateSignInAndConsent(browser: SetupBrowser, authorizePath: string, query: string): Promise<string> {
  let { response, url } = await browser.follow(`${authorizePath}?${query}`);
  if (new URL(url).pathname.endsWith('/login')) {
    const page = await response.text();
    const posted = await browser.fetch(url.split('?')[0]!, {
      method: 'POST',
      headers: { 'content-type': FORM_CONTENT_TYPE },
      body: new URLSearchParams({ csrf: inputValue(page, 'csrf'), return_to: inputValue(page, 'return_to'), email: BENCH_USER_EMAIL, password: BENCH_USER_PASSWORD }).toString(),
    });
    if (posted.status !== 303) throw new Error(`Mandate login answered ${posted.status}`);
    ({ response, url } = await browser.follow(posted.headers.get('location')!));
  }
  if (response.status === 200 && !url.startsWith('https://')) {
    const page = await response.text();
    const form = { csrf: inputValue(page, 'csrf'), request: inputValue(page, 'request'), decision: 'approve', remember: '1' };
    const consentPath = /<form[^>]*action="([^"]*consent[^"]*)"/.exec(page)?.[1] ?? '/authorize/consent';
    ({ response, url } = await browser.follow(unescapeHtml(consentPath), { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body: new URLSearchParams(form).toString() }));
  }
  return codeFrom(url, response);
}

/** oidc-provider: its interaction (lib-oidc-provider-peer.ts) signs the user in and grants at once; returns the code. */
export async function peerSignInAndConsent(browser: SetupBrowser, authorizePath: string, query: string): Promise<string> {
  const { response, url } = await browser.follow(`${authorizePath}?${query}`);
  return codeFrom(url, response);
}
