/**
 * Express 5 adapter. Express requests are node requests, so this reuses the node:http translation and only adapts
 * the signature and error flow: failures that are not the client's go to `next(err)`. The `AuthInfo` goes on
 * `req.auth`, where the MCP SDK's Streamable HTTP transport reads it.
 */
import type { Request, RequestHandler } from 'express';
import type { AuthenticateOptions } from '../challenge/authenticate-request.ts';
import type { ProtectedResourceMetadataOptions } from '../metadata/protected-resource.ts';
import type { TxnTokenGuardOptions } from '../txn-token/header.ts';
import type { TxnTokenContext } from '../txn-token/verifier.ts';
import type { AuthInfo } from '../verify/auth-info.ts';
import { protectedResourceMetadata as nodeMetadata, requireAuth as nodeRequireAuth, requireTxnToken as nodeRequireTxnToken } from './node.ts';

/**
 * Express middleware that requires a valid bearer token (RFC 6750 §2.1, verified per RFC 9068 §4) and, when given,
 * the `requiredScopes`. Sets `req.auth`; refuses with 400/401/403/500/503 and a `WWW-Authenticate` challenge.
 *
 * @example
 * app.get('/files', requireAuth({ verifier, requiredScopes: ['files:read'] }), (req, res) => {
 *   res.json({ owner: getAuth(req).subject });
 * });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function requireAuth(options: AuthenticateOptions): RequestHandler {
  const guard = nodeRequireAuth(options);
  return async (req, res, next) => {
    await guard(req, res, next);
  };
}

/**
 * Express middleware that requires exactly one valid `Txn-Token` header (draft-ietf-oauth-transaction-tokens §7)
 * and, when given, the `requiredScopes`. Sets `req.txnToken`; refuses with 400/403/503 and a JSON body.
 *
 * @example
 * app.post('/orders', requireTxnToken({ verifier: txnTokens, requiredScopes: ['trade'] }), (req, res) => {
 *   res.json({ txn: getTxnToken(req).txn });
 * });
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-transaction-tokens/
 */
export function requireTxnToken(options: TxnTokenGuardOptions): RequestHandler {
  const guard = nodeRequireTxnToken(options);
  return async (req, res, next) => {
    await guard(req, res, next);
  };
}

/** The Txn-Token context {@link requireTxnToken} put on the request, typed. Throws TypeError when it did not run. */
export function getTxnToken(req: Request): TxnTokenContext {
  const context = (req as Request & { txnToken?: TxnTokenContext }).txnToken;
  if (context === undefined) throw new TypeError('req.txnToken is not set: mount requireTxnToken() before this handler');
  return context;
}

/**
 * Express middleware serving the resource's RFC 9728 metadata at its path-inserted well-known URL (and the root
 * one); other requests pass through.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): RequestHandler {
  const handler = nodeMetadata(options);
  return (req, res, next) => {
    handler(req, res, next);
  };
}

/**
 * The `AuthInfo` (of an RFC 9068 token) that {@link requireAuth} put on the request, typed. Throws TypeError when the
 * middleware did not run.
 */
export function getAuth(req: Request): AuthInfo {
  const auth = (req as Request & { auth?: AuthInfo }).auth;
  if (auth === undefined) throw new TypeError('req.auth is not set: mount requireAuth() before this handler');
  return auth;
}
