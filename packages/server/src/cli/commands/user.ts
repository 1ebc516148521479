import { createUser, deleteUser, getUser, listUserPasskeys, listUsers, removeUserPasskey, setUserStatus, updateUser, type UserView } from '../../management/users.ts';
import { commandArgs, formatTime, table, UsageError, withManagement } from '../cli-context.ts';
import { readSecretFromStdin } from '../read-secret.ts';

export const userHelp = `mandate user <command>

  create --email <email> [--name <name>] [--admin] [--role <role>]… [--no-password]
                          create a user; the password is read from standard input
                          (echo 'pw' | mandate user create …, or typed at the prompt)
  list                    list users
  show <id|email>         show one user
  set-password <id|email> read a new password from standard input; ends the user's sessions and (unless
                          MANDATE_PASSWORD_RESET_REVOKES_GRANTS=false) their grants and tokens, and (unless
                          MANDATE_PASSWORD_RESET_REVOKES_PASSKEYS=false) removes their passkeys
  set-roles <id|email> [--role <role>]…
                          replace the user's roles (what a role_required scope policy asks for);
                          no --role removes them all
  passkeys <id|email>     list the user's passkeys
  remove-passkey <id|email> <credential-id>
                          remove one passkey: it can no longer sign in
  disable <id|email>      disable: ends sessions and grants, every token issued for the user becomes inactive
  enable <id|email>       enable again (tokens and grants from before the disable stay dead)
  delete <id|email>       delete the user with their grants, passkeys and consents

Every command takes --db <url> and --json.`;

function describe(user: UserView): string {
  return table([
    ['id', user.id],
    ['email', user.email ?? '-'],
    ['name', user.name ?? '-'],
    ['admin', user.is_admin ? 'yes' : 'no'],
    ['roles', user.roles.join(' ') || '-'],
    ['status', user.status],
    ['password', user.has_password ? 'set' : 'none'],
    ['created', formatTime(user.created_at)],
  ]);
}

export async function userCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals, out, config, one: id } = commandArgs('user', sub, rest, {
    email: { type: 'string' },
    name: { type: 'string' },
    admin: { type: 'boolean', default: false },
    'no-password': { type: 'boolean', default: false },
    role: { type: 'string', multiple: true },
  }, 'id|email');

  switch (sub) {
    case 'create': {
      if (!values.email) throw new UsageError('mandate user create needs --email');
      const password = values['no-password'] ? undefined : await readSecretFromStdin('Password: ');
      const user = await withManagement(config, (deps) => createUser({ email: values.email, name: values.name, is_admin: values.admin, roles: values.role ?? [], password }, deps));
      return out.print(user, describe(user));
    }
    case 'list': {
      const users = await withManagement(config, (deps) => listUsers(deps));
      const rows = [['ID', 'EMAIL', 'STATUS', 'ADMIN'], ...users.map((u) => [u.id, u.email ?? '-', u.status, u.is_admin ? 'yes' : ''])];
      return out.print(users, users.length ? table(rows) : 'no users');
    }
    case 'show': {
      const user = await withManagement(config, (deps) => getUser(id(), deps));
      return out.print(user, describe(user));
    }
    case 'set-password': {
      const target = id();
      const password = await readSecretFromStdin('New password: ');
      const user = await withManagement(config, (deps) => updateUser(target, { password }, deps));
      return out.print(user, `password updated for ${user.email ?? user.id}`);
    }
    case 'set-roles': {
      const user = await withManagement(config, (deps) => updateUser(id(), { roles: values.role ?? [] }, deps));
      return out.print(user, `${user.email ?? user.id} has roles: ${user.roles.join(' ') || 'none'}`);
    }
    case 'disable':
    case 'enable': {
      const user = await withManagement(config, (deps) => setUserStatus(id(), sub === 'disable' ? 'disabled' : 'active', deps));
      return out.print(user, `${user.email ?? user.id} is ${user.status}`);
    }
    case 'passkeys': {
      const passkeys = await withManagement(config, (deps) => listUserPasskeys(id(), deps));
      const rows = [['CREDENTIAL ID', 'NAME', 'ADDED', 'LAST USED'], ...passkeys.map((p) => [p.credential_id, p.name, formatTime(p.created_at), p.last_used_at ? formatTime(p.last_used_at) : '-'])];
      return out.print(passkeys, passkeys.length ? table(rows) : 'no passkeys');
    }
    case 'remove-passkey': {
      if (positionals.length !== 2) throw new UsageError('mandate user remove-passkey needs <id|email> <credential-id>');
      const [target, credentialId] = positionals as [string, string];
      await withManagement(config, (deps) => removeUserPasskey(target, credentialId, deps));
      return out.print({ removed: credentialId, user: target }, `removed passkey ${credentialId} of ${target}`);
    }
    case 'delete': {
      const target = id();
      await withManagement(config, (deps) => deleteUser(target, deps));
      return out.print({ deleted: target }, `deleted ${target}`);
    }
    default:
      throw new UsageError(userHelp);
  }
}
