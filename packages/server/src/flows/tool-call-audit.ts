import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import { invalidRequest } from '../oauth/oauth-error.ts';
import type { ResourceRecord } from '../store/store.ts';

/**
 * Tool-call audit (issue 12 item 7): an MCP server reports the tool calls it served or refused (the SDK's MCP
 * adapter batches them), authenticated by its API key; each becomes a `tool.call` row of the hash-chained audit
 * log, with the resource as actor. Never the arguments: only their SHA-256, as the caller computed it.
 */

/** At most this many calls per report: the SDK sends batches well below it. */
export const MAX_TOOL_CALLS_PER_REPORT = 100;

const printable = (max: number) => z.string().min(1).max(max).regex(/^[^\u0000-\u001f\u007f]+$/, 'must be printable');

const toolCall = z
  .object({
    /** `sub` of the token the call was made with. */
    subject: printable(200),
    client_id: printable(200).optional(),
    /** The agents of the token's `act` chain, outermost first. */
    chain: z.array(printable(200)).max(10).default([]),
    tool: printable(200),
    arguments_sha256: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the arguments'),
    decision: z.enum(['allowed', 'refused']),
    /** Why it was refused (or why a call that ran failed). */
    reason: z.string().max(500).optional(),
    duration_ms: z.number().nonnegative().max(86_400_000),
    /** When the call was received, epoch milliseconds (the server's own time is the row's time). */
    at: z.number().int().nonnegative().optional(),
    /** `jti` of the token. */
    jti: printable(200).optional(),
  })
  .strict();

const reportSchema = z.object({ calls: z.array(toolCall).min(1).max(MAX_TOOL_CALLS_PER_REPORT) }).strict();

export type ToolCallReport = z.infer<typeof reportSchema>;

export function toolCallAuditFlow(deps: { audit: Pick<AuditLog, 'record'> }) {
  return {
    parse(body: unknown): ToolCallReport {
      const parsed = reportSchema.safeParse(body ?? {});
      if (!parsed.success) throw invalidRequest(parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      return parsed.data;
    },

    /** Writes one audit row per call; returns how many. */
    async record(resource: ResourceRecord, report: ToolCallReport, ip: string): Promise<number> {
      for (const call of report.calls) {
        await deps.audit.record({
          event: 'tool.call',
          actor: resource.uri,
          subject: call.subject,
          clientId: call.client_id ?? null,
          ip,
          detail: {
            tool: call.tool,
            arguments_sha256: call.arguments_sha256,
            decision: call.decision,
            ...(call.reason !== undefined ? { reason: call.reason } : {}),
            duration_ms: call.duration_ms,
            chain: call.chain,
            ...(call.jti !== undefined ? { jti: call.jti } : {}),
            ...(call.at !== undefined ? { at: new Date(call.at).toISOString() } : {}),
          },
        });
      }
      return report.calls.length;
    },
  };
}

export type ToolCallAuditFlow = ReturnType<typeof toolCallAuditFlow>;
