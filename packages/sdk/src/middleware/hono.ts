/**
 * Hono 4 adapter. The core already works on fetch `Headers` and URLs, so this only reads Hono's request, puts the
 * `AuthInfo` in the context (`c.get('auth')`) and turns a rejection into a Response.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { authenticateCredentials } from '../challenge/authenticate-request.ts';
import type { AuthenticateOptions } from '../challenge/authenticate-request.ts';
import { metadataAnswer } from '../metadata/protected-resource.ts';
import type { ProtectedResourceMetadataOptions } from '../metadata/protected-resource.ts';
import { authenticateTxnToken, checkTxnTokenGuardOptions } from '../txn-token/header.ts';
import type { TxnTokenGuardOptions } from '../txn-token/header.ts';
import type { TxnTokenContext } from '../txn-token/verifier.ts';
import type { AuthInfo } from '../verify/auth-info.ts';
import { checkAuthenticateOptions } from './node.ts';

/** The Hono environment the middleware sets: `c.get('auth')` is the verified token's `AuthInfo`. */
export type AuthEnv = { Variables: { auth: AuthInfo } };

/**
 * Hono middleware that requires a valid bearer token (RFC 6750 §2.1, verified per RFC 9068 §4) and, when given,
 * the `requiredScopes`. Sets `c.get('auth')`; refuses with 400/401/403/500/503 and a `WWW-Authenticate` challenge.
 *
 * @example
 * const app = new Hono<AuthEnv>();
 * app.get('/files', requireAuth({ verifier, requiredScopes: ['files:read'] }), (c) => c.json({ owner: c.get('auth').subject }));
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function requireAuth(options: AuthenticateOptions): MiddlewareHandler<AuthEnv> {
  checkAuthenticateOptions(options);
  return async (c, next) => {
    const outcome = await authenticateCredentials(
      { headers: c.req.raw.headers, url: c.req.url, method: c.req.method, bodyHasAccessToken: await formHasAccessToken(c) },
      options,
    );
    if (!outcome.ok) {
      const { status, headers, body } = outcome.rejection;
      return c.json(body, status, headers);
    }
    c.set('auth', outcome.auth);
    await next();
  };
}

/** The Hono environment {@link requireTxnToken} sets: `c.get('txnToken')` is the verified Txn-Token's context. */
export type TxnTokenEnv = { Variables: { txnToken: TxnTokenContext } };

/**
 * Hono middleware that requires exactly one valid `Txn-Token` header (draft-ietf-oauth-transaction-tokens §7) and,
 * when given, the `requiredScopes`. Sets `c.get('txnToken')`; refuses with 400/403/503 and a JSON body.
 *
 * @example
 * const app = new Hono<TxnTokenEnv>();
 * app.post('/orders', requireTxnToken({ verifier: txnTokens }), (c) => c.json({ txn: c.get('txnToken').txn }));
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-transaction-tokens/
 */
export function requireTxnToken(options: TxnTokenGuardOptions): MiddlewareHandler<TxnTokenEnv> {
  checkTxnTokenGuardOptions(options);
  return async (c, next) => {
    const outcome = await authenticateTxnToken(c.req.raw.headers, options);
    if (!outcome.ok) {
      const { status, headers, body } = outcome.rejection;
      return c.json(body, status, headers);
    }
    c.set('txnToken', outcome.context);
    await next();
  };
}

/**
 * Hono middleware serving the resource's RFC 9728 metadata at its path-inserted well-known URL (and the root one);
 * other requests pass through.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): MiddlewareHandler {
  const answer = metadataAnswer(options);
  return async (c, next) => {
    const result = answer(c.req.method, c.req.path);
    if (result === undefined) return next();
    return new Response(result.body, { status: result.status, headers: result.headers });
  };
}

/** RFC 6750 §2.2 form bodies only; Hono caches the parsed body, so the handler can still read it. */
async function formHasAccessToken(c: Context): Promise<boolean> {
  const type = c.req.header('content-type') ?? '';
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return false;
  }
  return 'access_token' in (await c.req.parseBody());
}
