/** What a headless browser does for the user: from the authorization URL to where the AS sends the browser back. */
export type HeadlessUserAgent = (authorizationUrl: URL) => Promise<string | URL>;

export interface HeadlessBrowserOptions {
  /**
   * Plays the user at the authorization server (signs in, answers the consent page) and resolves with the URL the
   * server redirects the browser to at the end (the client's redirect URI with `code`, `state`, `iss`). Default:
   * follow the server's redirects without showing any page, as a server that needs no user does (the MCP
   * conformance suite's); a page that would need a user is an error.
   */
  userAgent?: HeadlessUserAgent;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
}

/** Redirects followed on the authorization server before giving up. */
const MAX_HOPS = 10;

/**
 * An `onAuthorizationUrl` for `McpOAuthClientProvider` that needs no browser, for tests and unattended runs: the
 * `userAgent` takes the authorization URL to the redirect back, which is then requested from the provider's
 * loopback listener (RFC 8252 §7.3), which checks `state` and `iss` as it would for a real browser.
 *
 * @example
 * // the MCP conformance suite's AS redirects at once:
 * const provider = await McpOAuthClientProvider.create({ serverUrl, onAuthorizationUrl: headlessBrowser() });
 * // a real AS: script the sign-in and consent pages
 * headlessBrowser({ userAgent: async (url) => (await signInAndConsent(url)).location });
 */
export function headlessBrowser(options: HeadlessBrowserOptions = {}): (authorizationUrl: URL) => Promise<void> {
  const fetcher = options.fetch ?? fetch;
  const userAgent = options.userAgent ?? ((url: URL) => followRedirects(url, fetcher));
  return async (authorizationUrl) => {
    const back = new URL(await userAgent(new URL(authorizationUrl)), authorizationUrl);
    const answer = await fetcher(back, { redirect: 'manual' });
    await answer.body?.cancel();
    if (!answer.ok) throw new Error(`the redirect URI ${back.origin}${back.pathname} answered ${answer.status}`);
  };
}

/** Follows redirects on the authorization server's origin; the first one that leaves it is the way back. */
async function followRedirects(authorizationUrl: URL, fetcher: typeof fetch): Promise<URL> {
  let url = authorizationUrl;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const answer = await fetcher(url, { redirect: 'manual' });
    await answer.body?.cancel();
    const location = answer.headers.get('location');
    if (answer.status < 300 || answer.status > 399 || location === null) {
      throw new Error(`the authorization server answered ${answer.status} at ${url.origin}${url.pathname}: a user is needed there (give headlessBrowser a userAgent)`);
    }
    const next = new URL(location, url);
    if (next.origin !== authorizationUrl.origin) return next;
    url = next;
  }
  throw new Error(`more than ${MAX_HOPS} redirects on the authorization server`);
}
