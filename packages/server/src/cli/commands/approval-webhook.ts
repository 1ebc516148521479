import { parseArgs } from 'node:util';
import { loadKek, deriveWebhookSecretKey } from '../../keys/kek.ts';
import { createApprovalWebhook, deleteApprovalWebhook, getApprovalWebhook, listApprovalWebhooks } from '../../management/approval-webhooks.ts';
import { cliConfig, formatTime, output, table, UsageError, withManagement } from '../cli-context.ts';

export const approvalWebhookHelp = `mandate approval-webhook <command>

  add --url <url>         POST every approval event (created, approved, denied, expired) to <url>, signed with
                          HMAC-SHA256 in Mandate-Signature; prints the signing secret once (needs the KEK)
  list                    list approval webhooks
  show <id>               a webhook and its delivery log (status, attempts, next attempt, last result)
  delete <id>             remove a webhook and its delivery log

Every command takes --db <url> and --json.`;

export async function approvalWebhookCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { db: { type: 'string' }, json: { type: 'boolean', default: false }, url: { type: 'string' } } });
  const out = output(values.json);
  const config = cliConfig({ databaseUrl: values.db });
  const id = () => {
    if (positionals.length !== 1) throw new UsageError(`mandate approval-webhook ${sub} needs exactly one <id>`);
    return positionals[0]!;
  };
  switch (sub) {
    case 'add': {
      if (!values.url) throw new UsageError('mandate approval-webhook add needs --url');
      const url = values.url;
      const created = await withManagement(config, (deps) => createApprovalWebhook({ url }, deps, deriveWebhookSecretKey(loadKek(config.keys))));
      return out.print(created, `id      ${created.id}\nurl     ${created.url}\nsecret  ${created.secret}\n(shown once: the receiver verifies Mandate-Signature with it)`);
    }
    case 'list': {
      const webhooks = await withManagement(config, (deps) => listApprovalWebhooks(deps));
      const rows = [['ID', 'URL', 'CREATED'], ...webhooks.map((w) => [w.id, w.url, formatTime(w.created_at)])];
      return out.print(webhooks, webhooks.length ? table(rows) : 'no approval webhooks');
    }
    case 'show': {
      const shown = await withManagement(config, (deps) => getApprovalWebhook(id(), deps));
      const rows = [['EVENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST RESULT'], ...shown.deliveries.map((d) => [d.event_id, d.status, String(d.attempts), d.status === 'pending' ? formatTime(d.next_attempt_at) : '-', d.last_result ?? '-'])];
      return out.print(shown, `id   ${shown.id}\nurl  ${shown.url}\n\n${shown.deliveries.length ? table(rows) : 'no deliveries yet'}`);
    }
    case 'delete': {
      const target = id();
      await withManagement(config, (deps) => deleteApprovalWebhook(target, deps));
      return out.print({ deleted: target }, `approval webhook ${target} removed`);
    }
    default:
      throw new UsageError(approvalWebhookHelp);
  }
}
