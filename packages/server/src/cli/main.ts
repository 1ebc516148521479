import { parseArgs } from 'node:util';
import { ConfigError } from '../config.ts';
import { KekError } from '../keys/kek.ts';
import { ManagementError } from '../management/management-error.ts';
import { openStore } from '../store/open-store.ts';
import { cliConfig, output, UsageError } from './cli-context.ts';
import { adminTokenCommand, adminTokenHelp } from './commands/admin-token.ts';
import { agentCommand, agentHelp } from './commands/agent.ts';
import { clientCommand, clientHelp } from './commands/client.ts';
import { auditCommand, auditHelp } from './commands/audit.ts';
import { keysCommand, keysHelp } from './commands/keys.ts';
import { resourceCommand, resourceHelp } from './commands/resource.ts';
import { serveCommand, serveHelp } from './commands/serve.ts';
import { userCommand, userHelp } from './commands/user.ts';

const help = `mandate: OAuth 2.1 / OpenID Connect authorization server for AI agents and MCP servers

usage: mandate <command> [options]

  serve                   run the server (default http://localhost:8787)
  migrate                 apply pending database migrations
  agent …                 create and manage agents (create, list, show, disable, enable, rotate-secret, delete)
  client …                register OAuth applications (create, list, show, disable, enable, delete)
  user …                  create and manage users (create reads the password from stdin)
  resource …              register resource servers and their scopes
  admin-token …           create admin API tokens
  keys …                  rotate and list signing keys
  audit …                 verify and list the audit trail

Every command takes --db <url> (sqlite:<path> or postgres://…; default sqlite:./.mandate/mandate.db, or
MANDATE_DATABASE_URL) and --json. Run \`mandate <command> --help\` for details.`;

const commandHelp: Record<string, string> = {
  serve: serveHelp,
  agent: agentHelp,
  client: clientHelp,
  user: userHelp,
  resource: resourceHelp,
  'admin-token': adminTokenHelp,
  keys: keysHelp,
  audit: auditHelp,
  migrate: 'mandate migrate [--db <url>] [--json]\n\n  Applies pending migrations of the store the URL names.',
};

async function migrateCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { db: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const config = cliConfig({ databaseUrl: values.db });
  const store = await openStore(config.databaseUrl);
  try {
    const applied = await store.migrate();
    output(values.json).print({ applied }, applied.length ? `applied ${applied.join(', ')}` : 'the store is up to date');
  } finally {
    await store.close();
  }
}

/** Runs one CLI invocation and returns its exit status. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${help}\n`);
    return command ? 0 : 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${commandHelp[command] ?? help}\n`);
    return commandHelp[command] ? 0 : 2;
  }
  try {
    switch (command) {
      case 'serve':
        await serveCommand(args);
        return 0;
      case 'migrate':
        await migrateCommand(args);
        return 0;
      case 'agent':
        await agentCommand(args);
        return 0;
      case 'client':
        await clientCommand(args);
        return 0;
      case 'user':
        await userCommand(args);
        return 0;
      case 'resource':
        await resourceCommand(args);
        return 0;
      case 'admin-token':
        await adminTokenCommand(args);
        return 0;
      case 'keys':
        await keysCommand(args);
        return 0;
      case 'audit':
        return await auditCommand(args);
      default:
        throw new UsageError(`unknown command ${command}\n\n${help}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
    if (err instanceof ManagementError || err instanceof ConfigError || err instanceof KekError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
