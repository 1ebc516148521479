import { z } from 'zod';
import type { AuditRow, Store } from '../store/store.ts';
import { parseInput } from './input.ts';

/** Audit queries shared by `mandate audit list` and `GET /admin/v1/audit`. */

export interface AuditRowView {
  seq: number;
  time: string;
  event: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
  hash: string;
}

function auditRowView(row: AuditRow): AuditRowView {
  return {
    seq: row.seq,
    time: new Date(row.tsMs).toISOString(),
    event: row.event,
    actor: row.actor,
    subject: row.subject,
    client_id: row.clientId,
    ip: row.ip,
    detail: row.detail,
    hash: row.hash,
  };
}

/** An ISO 8601 time or epoch milliseconds. */
const instant = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

const filterSchema = z
  .object({
    event: z.string().max(100).optional(),
    principal: z.string().max(200).optional(),
    client_id: z.string().max(200).optional(),
    subject: z.string().max(200).optional(),
    tool: z.string().max(200).optional(),
    since: instant.optional(),
    until: instant.optional(),
    after: z.coerce.number().int().nonnegative().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    order: z.enum(['asc', 'desc']).default('desc'),
  })
  .strict();


export async function queryAudit(store: Pick<Store, 'listAuditRows'>, query: unknown): Promise<AuditRowView[]> {
  const q = parseInput(filterSchema, query);
  const rows = await store.listAuditRows({
    event: q.event,
    principal: q.principal,
    clientId: q.client_id,
    subject: q.subject,
    tool: q.tool,
    sinceMs: q.since,
    untilMs: q.until,
    afterSeq: q.after,
    limit: q.limit,
    descending: q.order === 'desc',
  });
  return rows.map(auditRowView);
}
