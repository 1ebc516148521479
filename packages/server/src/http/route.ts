import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminRole } from '../store/store.ts';

/**
 * Who may call a route. Every route must declare one (the app refuses to start otherwise), so nothing is
 * reachable by accident:
 * - `public`: anyone (metadata, JWKS, health);
 * - `oauth`: an OAuth endpoint that authenticates its caller itself, from headers or body (token, revoke, introspect);
 * - `admin`: a management route; the app checks an admin credential before the handler runs;
 * - `browser`: an interactive page (login, consent, account). The app adds anti-framing, CSP and no-store, and
 *   refuses every POST without the session's CSRF token before the handler runs (`http/browser-guard.ts`); the
 *   handler itself decides whether a signed-in user is needed.
 */
export type RouteAccess = 'public' | 'oauth' | 'admin' | 'browser';

/** How errors on a route are written: RFC 6749 JSON on OAuth endpoints, RFC 9457 problem+json elsewhere. */
export type ErrorFormat = 'oauth' | 'problem';

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the issuer's path, or from the origin's root when `fromOrigin` is set (well-known URIs). */
  url: string;
  fromOrigin?: boolean;
  access: RouteAccess;
  errorFormat: ErrorFormat;
  /**
   * Callable from any web origin without credentials (`http/cors.ts`): metadata, JWKS, token, revocation and
   * registration, which browser-based clients call. Never a page or the admin API.
   */
  cors?: boolean;
  /**
   * `admin` routes: the admin-token roles admitted besides `admin` (which is admitted everywhere). Deny by default:
   * a route that names none is for `admin` tokens only.
   */
  adminRoles?: readonly AdminRole[];
  /**
   * `browser` routes posted from an anonymous page (sign-in, sign-up): the CSRF token bound to the browser's CSRF
   * cookie is accepted besides the session's. Every other POST takes only the token of the session it was issued
   * for, so an anonymous token (which whoever can set a cookie on the browser can mint) never reaches a signed-in form.
   */
  anonymousForm?: true;
  handler(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    errorFormat?: ErrorFormat;
    adminRoles?: readonly AdminRole[];
    anonymousForm?: true;
  }
  interface FastifyRequest {
    /** Set by the admin guard on `admin` routes: `admin:<token id>`. */
    adminActor?: string;
    /** The user the admin token speaks for, if any (an approver's decisions are recorded as theirs). */
    adminUserId?: string | null;
    /** The client an OAuth endpoint authenticated: the request span's `client_id` when tracing (tracing.ts). */
    authenticatedClientId?: string;
  }
}
