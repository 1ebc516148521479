import type { FastifyReply } from 'fastify';
import { type ApprovalStore, type ApprovalView, decideApproval, listApprovals } from '../../management/approvals.ts';
import { ManagementError } from '../../management/management-error.ts';
import { userEndpointPaths } from '../../http/endpoint-paths.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { ClientRecords, UserRecords } from '../../store/store.ts';
import { type ApprovalLabels, approvalRow, approvalsPage } from '../../ui/console/approvals-page.ts';
import { backTo, type ConsoleDeps, consoleManagement, type ConsoleRequest, consoleRoute, noticeOf, routeParam } from './console-route.ts';

export type ConsoleApprovalStore = ApprovalStore & Pick<ClientRecords, 'listClients'> & Pick<UserRecords, 'listUsers'>;

/** How often a console's live stream reads the queue (requests come from any instance, so it polls the store). */
export const APPROVAL_STREAM_POLL_MS = 1000;
/** A comment this often keeps proxies from closing an idle stream. */
const KEEPALIVE_TICKS = 15;

const NOTICES = { approved: 'Request approved: the agent gets its token at its next poll.', denied: 'Request denied: the agent is told access_denied.' };

async function labels(deps: ConsoleDeps<ConsoleApprovalStore>): Promise<ApprovalLabels> {
  const clients = new Map((await deps.store.listClients()).map((c) => [c.clientId, c.name]));
  const users = new Map((await deps.store.listUsers()).map((u) => [u.id, u.email ?? u.name ?? u.id]));
  return { clients, users };
}

/**
 * `/admin/approvals`: the queue, each pending request with approve/deny and a reason (approvers and admins; viewers
 * read only), recent decisions, and `/admin/approvals/events`, the Server-Sent Events stream that brings new
 * requests into an open page without a reload. The decider is the session's user (management/approvals.ts
 * ignores any approver field of the form); a critical request needs a fresh sign-in.
 */
export function consoleApprovalRoutes(deps: ConsoleDeps<ConsoleApprovalStore> & { draining(): boolean; pollMs?: number }): RouteDefinition[] {
  const freshSeconds = deps.config.users.passkeyRegistrationMaxAuthAgeSeconds;
  async function render(req: ConsoleRequest, reauthUrl?: string): Promise<string> {
    const all = await listApprovals({}, consoleManagement(deps, req));
    return approvalsPage(req.frame, {
      pending: all.filter((a) => a.status === 'pending'),
      decided: all.filter((a) => a.status !== 'pending').slice(0, 20),
      labels: await labels(deps),
      reauthUrl,
      freshSeconds,
    });
  }
  const section = 'approvals' as const;
  return [
    consoleRoute(deps, {
      method: 'GET',
      path: '/approvals',
      section,
      async handler(req) {
        req.frame.notice = noticeOf(req, NOTICES);
        return render(req);
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/approvals/:id/decision',
      section,
      onRefusal: (req) => render(req),
      async handler(req) {
        const management = consoleManagement(deps, req);
        // The whole form goes in: a field naming another approver is ignored by the schema, never used.
        const input = Object.fromEntries([...req.form].filter(([name]) => name !== 'csrf'));
        try {
          const decided = await decideApproval(routeParam(req, 'id'), input, { ...management, decider: req.user.id, deciderUserId: req.user.id });
          return backTo(req, '/approvals', decided.status === 'approved' ? 'approved' : 'denied');
        } catch (err) {
          if (!(err instanceof ManagementError) || err.kind !== 'forbidden') throw err;
          req.frame.error = err.message;
          const returnTo = `${req.frame.base}/admin/approvals`;
          req.reply.code(403);
          return render(req, `${req.frame.base}${userEndpointPaths.login}?${new URLSearchParams({ return_to: returnTo })}`);
        }
      },
    }),
    consoleRoute(deps, {
      method: 'GET',
      path: '/approvals/events',
      section,
      handler: (req) => stream(req, deps),
    }),
  ];
}

/**
 * The live queue: a `pending` event with every pending request (id and its row's markup) whenever the set changes,
 * first on connect; the page's script adds rows it lacks and removes rows that were decided or expired.
 */
async function stream(req: ConsoleRequest, deps: ConsoleDeps<ConsoleApprovalStore> & { draining(): boolean; pollMs?: number }): Promise<FastifyReply> {
  const { reply } = req;
  const freshSeconds = deps.config.users.passkeyRegistrationMaxAuthAgeSeconds;
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
  out.write('retry: 2000\n\n');
  let closed = false;
  let wake: (() => void) | null = null;
  out.on('close', () => {
    closed = true;
    wake?.();
  });
  let last: string | null = null;
  let ticks = 0;
  try {
    while (!closed && !deps.draining()) {
      const pending: ApprovalView[] = await listApprovals({ status: 'pending' }, consoleManagement(deps, req));
      const fingerprint = pending.map((a) => a.id).join(',');
      if (fingerprint !== last) {
        const names = await labels(deps);
        const rows = pending.slice(0, 200).map((a) => ({ id: a.id, html: approvalRow(req.frame, a, names, freshSeconds).value }));
        out.write(`event: pending\ndata: ${JSON.stringify({ rows })}\n\n`);
        last = fingerprint;
      } else if (++ticks % KEEPALIVE_TICKS === 0) {
        out.write(': keep-alive\n\n');
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, deps.pollMs ?? APPROVAL_STREAM_POLL_MS).unref();
      });
    }
  } finally {
    out.end();
  }
  return reply;
}
