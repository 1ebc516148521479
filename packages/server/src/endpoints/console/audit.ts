import type { AuditChainReport } from '../../audit/verify-audit-chain.ts';
import { type AuditRowView, queryAudit } from '../../management/audit.ts';
import { ManagementError } from '../../management/management-error.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { AuditRecords, ClientRecords, UserRecords } from '../../store/store.ts';
import { auditPage } from '../../ui/console/audit-page.ts';
import { type ConsoleDeps, type ConsoleRequest, consoleRoute } from './console-route.ts';

/** Offered in the event filter beside those seen lately. */
const COMMON_EVENTS = ['token.*', 'token.issued', 'token.refused', 'token.revoked', 'approval.*', 'grant.revoked', 'consent.revoked', 'login.*', 'agent.*', 'client.*', 'scope_policy.updated', 'key.rotated', 'user.*'];
const FILTERS = ['event', 'principal', 'client_id', 'since', 'until'] as const;

/**
 * `/admin/audit`: the audit query of management/audit.ts (the admin API's and the CLI's), and the chain check. The
 * check reads every row, so it is a POST (admins only: a viewer reads the log but cannot make the server walk it) and
 * runs once at a time: a request made while one runs gets that run's report.
 */
export function consoleAuditRoutes(deps: ConsoleDeps<Pick<AuditRecords, 'listAuditRows'> & Pick<ClientRecords, 'listClients'> & Pick<UserRecords, 'listUsers'>>): RouteDefinition[] {
  let running: Promise<AuditChainReport> | null = null;
  const verifyOnce = (): Promise<AuditChainReport> =>
    (running ??= deps.audit.verify().finally(() => {
      running = null;
    }));

  async function render(req: ConsoleRequest, source: Record<string, string | undefined>, chain?: AuditChainReport): Promise<string> {
    const filter: Record<string, string> = {};
    for (const name of FILTERS) {
      const value = source[name]?.trim();
      if (value) filter[name] = value;
    }
    let rows: AuditRowView[] = [];
    try {
      rows = await queryAudit(deps.store, { ...filter, limit: 200 });
    } catch (err) {
      if (!(err instanceof ManagementError)) throw err;
      req.frame.error = err.message;
      req.reply.code(400);
    }
    const recent = await deps.store.listAuditRows({ limit: 500, descending: true });
    const events = [...new Set([...COMMON_EVENTS, ...recent.map((r) => r.event)])].sort();
    const names = new Map<string, string>([
      ...(await deps.store.listClients()).map((c) => [c.clientId, c.name] as [string, string]),
      ...(await deps.store.listUsers()).map((u) => [u.id, u.email ?? u.id] as [string, string]),
    ]);
    return auditPage(req.frame, { rows, filter, events, chain, names });
  }

  return [
    consoleRoute(deps, { method: 'GET', path: '/audit', section: 'audit', handler: (req) => render(req, req.request.query as Record<string, string | undefined>) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/audit/verify',
      section: 'audit',
      handler: async (req) => render(req, Object.fromEntries(req.form), await verifyOnce()),
    }),
  ];
}
