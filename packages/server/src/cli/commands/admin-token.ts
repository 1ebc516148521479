import { parseArgs } from 'node:util';
import { createAdminToken, listAdminTokens, revokeAdminToken } from '../../management/admin-tokens.ts';
import { cliConfig, formatTime, output, table, UsageError, withManagement } from '../cli-context.ts';

export const adminTokenHelp = `mandate admin-token <command>

  create --name <name> [--role <admin|approver|viewer>] [--user <id|email>]
                          create an admin API token (Authorization: Bearer mad_…); printed once.
                          --role: admin (default) may do everything; approver reads and decides approval
                          requests; viewer reads them. --user: the user it speaks for (recorded as the decider)
  list                    list admin tokens (never their secrets)
  revoke <id>             revoke one

Every command takes --db <url> and --json.`;

export async function adminTokenCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { db: { type: 'string' }, json: { type: 'boolean', default: false }, name: { type: 'string' }, role: { type: 'string' }, user: { type: 'string' } },
  });
  const out = output(values.json);
  const config = cliConfig({ databaseUrl: values.db });
  switch (sub) {
    case 'create': {
      if (!values.name) throw new UsageError('mandate admin-token create needs --name');
      const created = await withManagement(config, (deps) => createAdminToken({ name: values.name, ...(values.role ? { role: values.role } : {}), ...(values.user ? { user: values.user } : {}) }, deps));
      return out.print(created, `token  ${created.token}\n(shown once: store it now)`);
    }
    case 'list': {
      const tokens = await withManagement(config, (deps) => listAdminTokens(deps));
      const rows = [['ID', 'NAME', 'CREATED', 'REVOKED'], ...tokens.map((t) => [t.id, t.name, formatTime(t.created_at), formatTime(t.revoked_at)])];
      return out.print(tokens, tokens.length ? table(rows) : 'no admin tokens');
    }
    case 'revoke': {
      if (positionals.length !== 1) throw new UsageError('mandate admin-token revoke needs exactly one <id>');
      await withManagement(config, (deps) => revokeAdminToken(positionals[0]!, deps));
      return out.print({ revoked: positionals[0] }, `revoked ${positionals[0]}`);
    }
    default:
      throw new UsageError(adminTokenHelp);
  }
}
