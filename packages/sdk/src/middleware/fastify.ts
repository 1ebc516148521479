/**
 * Fastify 5 adapter. Translates the request for the web-standard core and a rejection into a reply. The
 * `AuthInfo` goes on `request.auth`, declared with `decorateRequest` by {@link mandateAuthPlugin}.
 */
import type { FastifyInstance, FastifyPluginCallback, preHandlerAsyncHookHandler } from 'fastify';
import { authenticateCredentials } from '../challenge/authenticate-request.ts';
import type { AuthenticateOptions } from '../challenge/authenticate-request.ts';
import { metadataAnswer, protectedResourceMetadataPaths } from '../metadata/protected-resource.ts';
import type { ProtectedResourceMetadataOptions } from '../metadata/protected-resource.ts';
import { authenticateTxnToken, checkTxnTokenGuardOptions } from '../txn-token/header.ts';
import type { TxnTokenGuardOptions } from '../txn-token/header.ts';
import type { TxnTokenContext } from '../txn-token/verifier.ts';
import type { AuthInfo } from '../verify/auth-info.ts';
import { checkAuthenticateOptions, parsedBodyHasAccessToken, rawHeaderSource } from './node.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `requireAuth` preHandler; `null` on routes it does not guard. */
    auth: AuthInfo | null;
    /** Set by the `requireTxnToken` preHandler; `null` on routes it does not guard. */
    txnToken: TxnTokenContext | null;
  }
}

// Fastify's plugin encapsulation would keep the decoration inside the plugin; this symbol (what the fastify-plugin
// package sets) makes `request.auth` exist for the routes of the instance that registers it.
const skipOverride = Symbol.for('skip-override');

/**
 * Declares `request.auth` and `request.txnToken` (initially `null`) with `decorateRequest`, as Fastify wants request
 * properties declared up front. Register it once before routes that use {@link requireAuth}, the RFC 6750 guard, or
 * {@link requireTxnToken}.
 */
export const mandateAuthPlugin: FastifyPluginCallback = Object.assign(
  (app: FastifyInstance, _options: unknown, done: (err?: Error) => void) => {
    if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
    if (!app.hasRequestDecorator('txnToken')) app.decorateRequest('txnToken', null);
    done();
  },
  { [skipOverride]: true },
);

/**
 * A Fastify preHandler that requires a valid bearer token (RFC 6750 §2.1, verified per RFC 9068 §4) and, when
 * given, the `requiredScopes`. Sets `request.auth`; refuses with 400/401/403/500/503 and a `WWW-Authenticate` challenge.
 *
 * @example
 * await app.register(mandateAuthPlugin);
 * app.get('/files', { preHandler: requireAuth({ verifier, requiredScopes: ['files:read'] }) }, (request) => ({ owner: request.auth?.subject }));
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function requireAuth(options: AuthenticateOptions): preHandlerAsyncHookHandler {
  checkAuthenticateOptions(options);
  return async function mandateRequireAuth(request, reply) {
    const outcome = await authenticateCredentials(
      {
        // request.headers is node's, which keeps only the first of repeated Authorization headers.
        headers: rawHeaderSource(request.raw.rawHeaders),
        url: request.url,
        method: request.method,
        bodyHasAccessToken: parsedBodyHasAccessToken(request.headers['content-type'], request.body),
      },
      options,
    );
    if (!outcome.ok) {
      const { status, headers, body } = outcome.rejection;
      return reply.code(status).headers(headers).send(body);
    }
    request.auth = outcome.auth;
  };
}

/**
 * A Fastify preHandler that requires exactly one valid `Txn-Token` header (draft-ietf-oauth-transaction-tokens §7)
 * and, when given, the `requiredScopes`. Sets `request.txnToken` (declared by {@link mandateAuthPlugin}); refuses
 * with 400/403/503 and a JSON body.
 *
 * @example
 * await app.register(mandateAuthPlugin);
 * app.post('/orders', { preHandler: requireTxnToken({ verifier: txnTokens }) }, (request) => ({ txn: request.txnToken?.txn }));
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-transaction-tokens/
 */
export function requireTxnToken(options: TxnTokenGuardOptions): preHandlerAsyncHookHandler {
  checkTxnTokenGuardOptions(options);
  return async function mandateRequireTxnToken(request, reply) {
    // request.headers is node's, which joins a repeated custom header; the raw list is what every adapter reads.
    const outcome = await authenticateTxnToken(rawHeaderSource(request.raw.rawHeaders), options);
    if (!outcome.ok) {
      const { status, headers, body } = outcome.rejection;
      return reply.code(status).headers(headers).send(body);
    }
    request.txnToken = outcome.context;
  };
}

/**
 * A Fastify plugin serving the resource's RFC 9728 metadata at its path-inserted well-known URL (and the root one).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): FastifyPluginCallback {
  const answer = metadataAnswer(options);
  const paths = protectedResourceMetadataPaths(options.resource, options.serveRootPath);
  return (app, _pluginOptions, done) => {
    for (const url of paths) {
      app.route({
        method: ['GET', 'OPTIONS'],
        url,
        handler: async (request, reply) => {
          const result = answer(request.method, url);
          if (result === undefined) return reply.callNotFound();
          return reply.code(result.status).headers(result.headers).send(result.body ?? undefined);
        },
      });
    }
    done();
  };
}
