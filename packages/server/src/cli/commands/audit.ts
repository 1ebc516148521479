import { parseArgs } from 'node:util';
import { verifyAuditChain } from '../../audit/verify-audit-chain.ts';
import { queryAudit } from '../../management/audit.ts';
import { cliConfig, output, table, UsageError, withManagement } from '../cli-context.ts';

export const auditHelp = `mandate audit <command>

  verify                  check the hash chain; reports the first altered or missing row (exit 1 if any)
  list [--event <name|prefix.*>] [--client <client_id>] [--principal <id>]
       [--since <time>] [--until <time>] [--after <seq>] [--limit <n>] [--asc]
                          list audit events, newest first (times: ISO 8601 or epoch ms)

Both take --db <url> and --json.`;

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
      since: { type: 'string' },
      until: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
      asc: { type: 'boolean', default: false },
    },
  });
  const out = output(values.json);
  const config = cliConfig({ databaseUrl: values.db });
  if (sub === 'verify') {
    const report = await withManagement(config, (deps) => verifyAuditChain(deps.store));
    const human = report.ok
      ? `audit chain intact: ${report.rowsChecked} rows, head ${report.head.seq} ${report.head.hash}`
      : `audit chain BROKEN at row ${report.problem!.seq}: ${report.problem!.message} (${report.rowsChecked} rows verified before it)`;
    out.print(report, human);
    return report.ok ? 0 : 1;
  }
  if (sub === 'list') {
    const events = await withManagement(config, (deps) =>
      queryAudit(deps.store, {
        event: values.event,
        client_id: values.client,
        principal: values.principal,
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
