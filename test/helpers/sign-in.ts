import { Browser, inputValue, PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * The user's part of an authorization, over real HTTP in a cookie-jar "browser": open the authorization URL an
 * SDK built, sign in with email and password, answer the consent page. Resolves with the URL the AS redirects the
 * browser back to (the client's redirect URI with `code`, `state` and `iss`; at once when consent was remembered), which the test then hands to the SDK
 * or requests from the SDK's loopback listener.
 */
export async function signInAndConsent(
  authorizationUrl: string,
  options: { email: string; password?: string; decision?: 'approve' | 'deny'; browser?: Browser },
): Promise<{ location: string; consentPage: string }> {
  const browser = options.browser ?? new Browser();
  const issuer = new URL(authorizationUrl).origin;
  let response = await browser.fetch(authorizationUrl);
  if (response.status === 302 && new URL(response.headers.get('location')!, issuer).pathname === '/login') {
    const loginPage = await (await browser.fetch(new URL(response.headers.get('location')!, issuer).href)).text();
    response = await browser.postForm(`${issuer}/login`, {
      csrf: inputValue(loginPage, 'csrf'),
      return_to: inputValue(loginPage, 'return_to'),
      email: options.email,
      password: options.password ?? PASSWORD,
    });
    if (response.status !== 303) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    response = await browser.fetch(new URL(response.headers.get('location')!, issuer).href);
  }
  // Consent remembered from an earlier authorization: straight back to the client.
  if (response.status === 302) return { location: response.headers.get('location')!, consentPage: '' };
  if (response.status !== 200) throw new Error(`expected the consent page, got ${response.status}`);
  const consentPage = await response.text();
  response = await browser.postForm(`${issuer}/authorize/consent`, {
    csrf: inputValue(consentPage, 'csrf'),
    request: inputValue(consentPage, 'request'),
    decision: options.decision ?? 'approve',
  });
  const location = response.headers.get('location');
  if (response.status !== 303 || location === null) throw new Error(`expected a redirect to the client, got ${response.status}`);
  return { location, consentPage };
}
