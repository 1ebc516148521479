import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { MandateConfig } from '../../config.ts';
import { type BrowserSessions, csrfToken } from '../../http/browser-session.ts';
import { userEndpointPaths } from '../../http/endpoint-paths.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { KeyRing } from '../../keys/key-ring.ts';
import type { ManagementDeps } from '../../management/management-deps.ts';
import { ManagementError } from '../../management/management-error.ts';
import { CONSOLE_SECTIONS, type ConsoleRole, type ConsoleSection, consoleRole, mayChange, mayRead } from '../../policy/console-role.ts';
import type { UserRecord } from '../../store/store.ts';
import type { ConsoleFrame } from '../../ui/console/components.ts';
import { confirmPage, consoleForbiddenPage } from '../../ui/console/console-layout.ts';
import { pageForm, seeOther, sendPage } from '../page-response.ts';

/**
 * The admin console's routes (issue 12 item 6): `browser` pages (so CSP, anti-framing, no-store and CSRF on every
 * POST come with the access kind) behind the normal user login, whose role comes from the signed-in user's record
 * (policy/console-role.ts; deny by default). Every change goes through management/, as the CLI and the admin API
 * do; the acting principal is the session's user, never a form field.
 */

/** What a console section is built from: its store slice `S`, the audit log, configuration, key ring and clock. */
export interface ConsoleDeps<S> {
  issuer: string;
  sessions: BrowserSessions;
  store: S;
  audit: Pick<AuditLog, 'record' | 'verify'>;
  config: MandateConfig;
  keys: KeyRing;
  now(): number;
}

export interface ConsoleRequest {
  request: FastifyRequest;
  reply: FastifyReply;
  user: UserRecord;
  /** When this browser session signed in (a critical approval needs it fresh, not some other session of the user). */
  authTime: number | null;
  role: ConsoleRole;
  frame: ConsoleFrame;
  /** The submitted form of a POST. */
  form: URLSearchParams;
}

export const consoleBase = (issuer: string): string => new URL(issuer).pathname.replace(/\/$/, '');

/** The management dependencies of a console request: the signed-in user is the actor. */
export function consoleManagement<S>(deps: ConsoleDeps<S>, req: ConsoleRequest): ManagementDeps<S> {
  return { store: deps.store, audit: deps.audit, config: deps.config, now: deps.now(), actor: req.user.id };
}

const STATUS: Record<ManagementError['kind'], number> = { 'invalid-request': 400, forbidden: 403, 'not-found': 404, conflict: 409 };

export interface ConsoleRouteOptions {
  method: 'GET' | 'POST';
  /** Below `/admin` ('' for the dashboard). */
  path: string;
  section: ConsoleSection;
  /**
   * Renders the section with a refusal when the handler's management call throws (a POST's bad input, a conflict):
   * the page shows what went wrong above the same content, with the matching status.
   */
  onRefusal?: (req: ConsoleRequest) => Promise<string>;
  /** A live stream's connect does not count as using the session (an open tab must not defeat its idle timeout). */
  touchesSession?: false;
  handler(req: ConsoleRequest): Promise<string | FastifyReply>;
}

/** `/admin/<path>` for a section; GETs need the role to read it, POSTs the role to change it. */
export function consoleRoute<S>(deps: ConsoleDeps<S>, o: ConsoleRouteOptions): RouteDefinition {
  const base = consoleBase(deps.issuer);
  return {
    method: o.method,
    url: `/admin${o.path}`,
    access: 'browser',
    errorFormat: 'problem',
    async handler(request, reply) {
      const session = await deps.sessions.signedIn(request, { touch: o.touchesSession !== false });
      if (!session) {
        const returnTo = o.method === 'GET' ? request.url : `${base}/admin`;
        const login = `${base}${userEndpointPaths.login}?${new URLSearchParams({ return_to: returnTo.startsWith(`${base}/`) ? returnTo : `${base}${returnTo}` })}`;
        return o.method === 'GET' ? reply.code(302).header('location', login).send() : seeOther(reply, login);
      }
      const csrf = csrfToken(session);
      const who = session.user.email ?? session.user.id;
      const role = consoleRole(session.user);
      if (!role) return sendPage(reply, 403, consoleForbiddenPage(base, csrf, who, 'Your account has no console role.'));
      const allowed = o.method === 'GET' ? mayRead(role, o.section) : mayChange(role, o.section);
      if (!allowed) {
        const reason = o.method === 'GET' ? `Your role (${role}) cannot see this section.` : `Your role (${role}) cannot change anything here.`;
        return sendPage(reply, 403, consoleForbiddenPage(base, csrf, who, reason));
      }
      const frame: ConsoleFrame = {
        base,
        csrf,
        user: { id: session.user.id, email: session.user.email, name: session.user.name },
        role,
        section: o.section,
        sections: CONSOLE_SECTIONS.filter((s) => mayRead(role, s)),
        canChange: mayChange(role, o.section),
      };
      const req: ConsoleRequest = { request, reply, user: session.user, authTime: session.record.authTime, role, frame, form: o.method === 'POST' ? pageForm(request) : new URLSearchParams() };
      try {
        const result = await o.handler(req);
        // A handler may set a refusal's status (400, 403) and still answer with its page.
        return typeof result === 'string' ? sendPage(reply, reply.statusCode >= 400 ? reply.statusCode : 200, result) : result;
      } catch (err) {
        if (!(err instanceof ManagementError) || !o.onRefusal) throw err;
        req.frame.error = err.message;
        return sendPage(reply, STATUS[err.kind], await o.onRefusal(req));
      }
    },
  };
}

/** What a console action acts on: looked up (and guarded) before anything is asked or done. */
export interface ActionTarget {
  id: string;
  name: string;
}

export interface ConsoleActionOptions {
  /** Below `/admin`, ending in the action: `/agents/:id/disable`. */
  path: string;
  section: ConsoleSection;
  onRefusal: (req: ConsoleRequest) => Promise<string>;
  /** The record the action names, or a ManagementError (not found; not allowed on this one). */
  target(req: ConsoleRequest): Promise<ActionTarget>;
  /** A destructive action asks first: the confirmation page's words. It runs once posted back with `confirmed=yes`. */
  confirm?: (target: ActionTarget) => { title: string; message: string; confirmLabel: string };
  run(target: ActionTarget, req: ConsoleRequest): Promise<unknown>;
  /** Where to go afterwards (below `/admin`), and the notice shown there. */
  back(target: ActionTarget): string;
  notice: string;
  /** Where Cancel leads (below `/admin`); `back` by default. */
  cancel?: (target: ActionTarget) => string;
}

/**
 * A POST that acts on one record (disable, enable, delete, rotate): look it up, ask first when destructive, run
 * it through management/, then back to a page with a notice. One shape for agents, clients and users.
 */
export function consoleAction<S>(deps: ConsoleDeps<S>, o: ConsoleActionOptions): RouteDefinition {
  return consoleRoute(deps, {
    method: 'POST',
    path: o.path,
    section: o.section,
    onRefusal: o.onRefusal,
    async handler(req) {
      const target = await o.target(req);
      if (o.confirm && !confirmed(req)) {
        const words = o.confirm(target);
        return confirmPage(req.frame, {
          ...words,
          action: `${req.frame.base}/admin${o.path.replace(':id', encodeURIComponent(target.id))}`,
          fields: {},
          cancelHref: `${req.frame.base}/admin${(o.cancel ?? o.back)(target)}`,
        });
      }
      await o.run(target, req);
      return backTo(req, o.back(target), o.notice);
    },
  });
}

/** After a successful POST: back to a page with a fixed notice key (no text from the URL is ever shown). */
export const backTo = (req: ConsoleRequest, path: string, notice: string): FastifyReply => seeOther(req.reply, `${req.frame.base}/admin${path}?notice=${encodeURIComponent(notice)}`);

/** The notice of a GET after a POST, by its fixed key. */
export function noticeOf(req: ConsoleRequest, notices: Record<string, string>): string | undefined {
  const key = (req.request.query as Record<string, string | undefined>)['notice'];
  return key !== undefined && Object.hasOwn(notices, key) ? notices[key] : undefined;
}

/** A destructive POST runs only with `confirmed=yes` (set by the confirmation page). */
export const confirmed = (req: ConsoleRequest): boolean => req.form.get('confirmed') === 'yes';

/** A form's list field: one entry per line or separated by commas/spaces. */
export function listField(form: URLSearchParams, name: string): string[] {
  return (form.get(name) ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** An optional text field: absent or blank → undefined. */
export function optionalField(form: URLSearchParams, name: string): string | undefined {
  const value = form.get(name)?.trim();
  return value ? value : undefined;
}

export const routeParam = (req: ConsoleRequest, name: string): string => (req.request.params as Record<string, string>)[name] ?? '';
