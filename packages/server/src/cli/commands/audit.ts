import { parseArgs } from 'node:util';
import { queryAudit } from '../../management/audit.ts';
import { cliConfig, output, table, UsageError, withManagement } from '../cli-context.ts';

export const auditHelp = `mandate audit <command>

  verify [--allow-unkeyed <seq>]
                          check the keyed chain against its anchor; reports the first altered or missing row,
                          a truncated tail or a forged anchor (exit 1 if any). Rows without a MAC (written before
                          the audit key existed) are a problem unless --allow-unkeyed covers them
  prune --older-than <days>
                          delete audit rows older than that (never the newest), after verifying them; a keyed
                          checkpoint lets verify go on from there (the server does it by itself with
                          MANDATE_AUDIT_RETENTION_DAYS); records an audit.pruned row
  reanchor                continue the chain from the table's last row after verify reported a broken anchor
                          (the server refuses to write audit rows until then); records an audit.reanchored row
  list [--event <name|prefix.*>] [--client <client_id>] [--principal <id>] [--subject <id>]
       [--tool <name>] [--since <time>] [--until <time>] [--after <seq>] [--limit <n>] [--asc]
                          list audit events, newest first (times: ISO 8601 or epoch ms); tool calls
                          reported by MCP servers are event tool.call (--tool filters them by tool)

All take --db <url> and --json. The audit key is derived from the KEK: give the CLI the server's
MANDATE_KEK (or MANDATE_KEK_FILE).`;

export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      db: { type: 'string' },
      json: { type: 'boolean', default: false },
      event: { type: 'string' },
      client: { type: 'string' },
      principal: { type: 'string' },
      subject: { type: 'string' },
      tool: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
      asc: { type: 'boolean', default: false },
      'allow-unkeyed': { type: 'string' },
      'older-than': { type: 'string' },
    },
  });
  const out = output(values.json);
  const config = cliConfig({ databaseUrl: values.db });
  if (sub === 'verify') {
    const allowed = values['allow-unkeyed'];
    if (allowed !== undefined && !/^\d+$/.test(allowed)) throw new UsageError('--allow-unkeyed takes a row number (seq)');
    const report = await withManagement(config, (deps) => deps.audit.verify(allowed === undefined ? {} : { allowUnkeyedThrough: Number(allowed) }));
    const human = report.ok
      ? `audit chain intact: ${report.rowsChecked} rows, head ${report.head.seq} ${report.head.hash} (anchored)` +
        (report.unkeyedRows ? `; rows 1–${report.unkeyedRows} predate the audit key and carry no MAC` : '') +
        (report.reanchoredAt.length ? `; re-anchored by an operator at row ${report.reanchoredAt.join(', ')} (see those rows' detail)` : '') +
        (report.prunedThrough ? `; rows 1–${report.prunedThrough} were deleted by retention (verified from its checkpoint)` : '')
      : `audit chain BROKEN at row ${report.problem!.seq}: ${report.problem!.message} (${report.rowsChecked} rows verified before it)`;
    out.print(report, human);
    return report.ok ? 0 : 1;
  }
  if (sub === 'prune') {
    const days = values['older-than'];
    if (days === undefined || !/^[1-9]\d{0,4}$/.test(days)) throw new UsageError('--older-than takes a number of days (1 or more)');
    const result = await withManagement(config, (deps) => deps.audit.prune((deps.now - Number(days) * 86_400) * 1000, 'cli'));
    const human = result ? `deleted rows up to ${result.throughSeq} (${result.deleted} rows); audit verify goes on from the checkpoint there` : 'no audit row is that old';
    out.print(result ?? { deleted: 0 }, human);
    return 0;
  }
  if (sub === 'reanchor') {
    const result = await withManagement(config, (deps) => deps.audit.reanchor('cli'));
    const human =
      result.problem === null
        ? `the anchor verified; the chain continues at row ${result.seq} (audit.reanchored)`
        : `re-anchored at row ${result.seq} (audit.reanchored) after: ${result.problem}. audit verify still reports the damage before it.`;
    out.print(result, human);
    return 0;
  }
  if (sub === 'list') {
    const events = await withManagement(config, (deps) =>
      queryAudit(deps.store, {
        event: values.event,
        client_id: values.client,
        principal: values.principal,
        subject: values.subject,
        tool: values.tool,
        since: values.since,
        until: values.until,
        after: values.after,
        limit: values.limit,
        order: values.asc ? 'asc' : 'desc',
      }),
    );
    const rows = [
      ['SEQ', 'TIME', 'EVENT', 'ACTOR', 'SUBJECT', 'DETAIL'],
      ...events.map((e) => [String(e.seq), e.time, e.event, e.actor ?? '-', e.subject ?? '-', JSON.stringify(e.detail)]),
    ];
    out.print(events, events.length ? table(rows) : 'no events');
    return 0;
  }
  throw new UsageError(auditHelp);
}
