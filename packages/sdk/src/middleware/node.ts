/**
 * node:http adapter. Translates an `IncomingMessage` into the web-standard core (`authenticateCredentials`) and a
 * rejection back into a `ServerResponse`; no logic of its own. The verified `AuthInfo` goes on `req.auth`, where
 * the MCP SDK's `StreamableHTTPServerTransport.handleRequest` reads it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateCredentials } from '../challenge/authenticate-request.ts';
import type { AuthenticateOptions, Rejection } from '../challenge/authenticate-request.ts';
import type { HeaderSource } from '../challenge/extract-token.ts';
import { metadataAnswer } from '../metadata/protected-resource.ts';
import type { MetadataAnswer, ProtectedResourceMetadataOptions } from '../metadata/protected-resource.ts';
import type { AuthInfo } from '../verify/auth-info.ts';
import { authenticateTxnToken, checkTxnTokenGuardOptions } from '../txn-token/header.ts';
import type { TxnTokenGuardOptions, TxnTokenRejection } from '../txn-token/header.ts';
import type { TxnTokenContext } from '../txn-token/verifier.ts';

/** A node request after {@link requireAuth} let it through. */
export type AuthenticatedRequest = IncomingMessage & { auth: AuthInfo };

/** Connect-style continuation; called with an error for failures that are not the client's. */
export type Next = (err?: unknown) => void;

/**
 * Returns a guard for node:http that authenticates a request (RFC 6750 bearer token, verified per RFC 9068).
 * On success it sets `req.auth`, calls `next()` when given, and resolves to the `AuthInfo`; on failure it writes
 * the 400/401/403/500/503 answer with its `WWW-Authenticate` challenge and resolves to `undefined`. It works both
 * inline in a `createServer` handler and as connect-style middleware.
 *
 * @example
 * const guard = requireAuth({ verifier, requiredScopes: ['files:read'] });
 * createServer(async (req, res) => {
 *   const auth = await guard(req, res);
 *   if (auth === undefined) return;
 *   res.end(`hello ${auth.subject}`);
 * });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function requireAuth(options: AuthenticateOptions): (req: IncomingMessage, res: ServerResponse, next?: Next) => Promise<AuthInfo | undefined> {
  checkAuthenticateOptions(options);
  return async (req, res, next) => {
    let outcome;
    try {
      outcome = await authenticateCredentials(credentialSources(req), options);
    } catch (err) {
      if (next === undefined) throw err;
      next(err);
      return undefined;
    }
    if (!outcome.ok) {
      writeRejection(res, outcome.rejection);
      return undefined;
    }
    (req as IncomingMessage & { auth?: AuthInfo }).auth = outcome.auth;
    next?.();
    return outcome.auth;
  };
}

/** A node request after {@link requireTxnToken} let it through. */
export type TxnTokenRequest = IncomingMessage & { txnToken: TxnTokenContext };

/**
 * Returns a guard for node:http that requires exactly one valid `Txn-Token` header (draft-ietf-oauth-transaction-tokens
 * §7) and, when given, the `requiredScopes`. On success it sets `req.txnToken` (the transaction's context), calls
 * `next()` when given, and resolves to it; on failure it writes the 400/403/503 answer and resolves to `undefined`.
 * It checks the Txn-Token only: combine it with {@link requireAuth} when the caller must also present an access token.
 *
 * @example
 * const txn = requireTxnToken({ verifier: createTxnTokenVerifier({ issuer, trustDomain }), requiredScopes: ['trade'] });
 * createServer(async (req, res) => {
 *   const context = await txn(req, res);
 *   if (context === undefined) return;
 *   res.end(`${context.subject} ${context.tctx.action}`);
 * });
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-transaction-tokens/
 */
export function requireTxnToken(options: TxnTokenGuardOptions): (req: IncomingMessage, res: ServerResponse, next?: Next) => Promise<TxnTokenContext | undefined> {
  checkTxnTokenGuardOptions(options);
  return async (req, res, next) => {
    let outcome;
    try {
      outcome = await authenticateTxnToken(rawHeaderSource(req.rawHeaders), options);
    } catch (err) {
      if (next === undefined) throw err;
      next(err);
      return undefined;
    }
    if (!outcome.ok) {
      writeTxnTokenRejection(res, outcome.rejection);
      return undefined;
    }
    (req as IncomingMessage & { txnToken?: TxnTokenContext }).txnToken = outcome.context;
    next?.();
    return outcome.context;
  };
}

/** Writes a Txn-Token refusal: status, headers, JSON body. */
export function writeTxnTokenRejection(res: ServerResponse, rejection: TxnTokenRejection): void {
  const body = JSON.stringify(rejection.body);
  res.writeHead(rejection.status, { ...rejection.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Returns a node:http handler for the RFC 9728 metadata of a resource, at its path-inserted URL (and the root one).
 * It answers and returns true for those paths; for any other path it calls `next()` when given and returns false.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): (req: IncomingMessage, res: ServerResponse, next?: Next) => boolean {
  const answer = metadataAnswer(options);
  return (req, res, next) => {
    const result = answer(req.method ?? 'GET', pathnameOf(req.url ?? '/'));
    if (result === undefined) {
      next?.();
      return false;
    }
    writeAnswer(res, result);
    return true;
  };
}

/**
 * Checks the options of an RFC 6750 guard once, at setup (hono's factory shape): misuse is a TypeError, not a 500 on
 * the first request.
 */
export function checkAuthenticateOptions(options: AuthenticateOptions): void {
  if (typeof options !== 'object' || options === null || typeof options.verifier?.verify !== 'function') {
    throw new TypeError('options.verifier must be a verifier from createVerifier()');
  }
  for (const name of ['requiredScopes', 'challengeScopes'] as const) {
    const scopes = options[name];
    if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((s) => typeof s === 'string' && s !== ''))) {
      throw new TypeError(`options.${name} must be an array of scope strings`);
    }
  }
}

/**
 * The credential sources of a node request. Node keeps only the first of repeated `Authorization` headers in
 * `req.headers`, which would hide a repeated header (RFC 6750 §3.1 `invalid_request`); `rawHeaders` has them all.
 */
export function credentialSources(req: IncomingMessage) {
  return {
    headers: rawHeaderSource(req.rawHeaders),
    // Express rewrites `url` under a mounted router; `originalUrl` is the path the client called (a DPoP proof's htu).
    url: (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/',
    method: req.method ?? 'GET',
    bodyHasAccessToken: parsedBodyHasAccessToken(req.headers['content-type'], (req as { body?: unknown }).body),
  };
}

/**
 * A `get()` over node's raw header list that joins repeated fields with ", ", as fetch's `Headers` does, so that a
 * repeated `Authorization` stays visible (RFC 6750 §3.1 `invalid_request`).
 */
export function rawHeaderSource(rawHeaders: readonly string[]): HeaderSource {
  return {
    get(name) {
      const wanted = name.toLowerCase();
      let value: string | null = null;
      for (let i = 0; i < rawHeaders.length; i += 2) {
        if ((rawHeaders[i] as string).length === wanted.length && (rawHeaders[i] as string).toLowerCase() === wanted) {
          value = value === null ? (rawHeaders[i + 1] as string) : `${value}, ${rawHeaders[i + 1] as string}`;
        }
      }
      return value;
    },
  };
}

/** True when a body that a framework already parsed as a form (RFC 6750 §2.2) carries `access_token`. */
export function parsedBodyHasAccessToken(contentType: string | undefined, body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  if (!(contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) return false;
  return body instanceof URLSearchParams ? body.has('access_token') : Object.hasOwn(body, 'access_token');
}

/** Writes a rejection: status, RFC 6750 §3 `WWW-Authenticate` challenge, JSON body. */
export function writeRejection(res: ServerResponse, rejection: Rejection): void {
  const body = JSON.stringify(rejection.body);
  res.writeHead(rejection.status, { ...rejection.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function writeAnswer(res: ServerResponse, answer: MetadataAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body ?? undefined);
}

function pathnameOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
