import { parseArgs } from 'node:util';
import { AuditAnchorError } from '../audit/audit-chain.ts';
import { ConfigError } from '../config.ts';
import { KekError } from '../keys/kek.ts';
import { ManagementError } from '../management/management-error.ts';
import { StoreUnavailableError } from '../store/store.ts';
import { openStore } from '../store/open-store.ts';
import { CliInputError, cliConfig, output, UsageError } from './cli-context.ts';

const help = `mandate: OAuth 2.1 / OpenID Connect authorization server for AI agents and MCP servers

usage: mandate <command> [options]

  serve                   run the server (default http://localhost:8787)
  migrate                 apply pending database migrations
  agent …                 create and manage agents (create, list, show, disable, enable, rotate-secret, delete)
  client …                register OAuth applications (create, list, show, disable, enable, delete)
  user …                  create and manage users (create reads the password from stdin)
  resource …              register resource servers and their scopes
  admin-token …           create admin API tokens
  approval-webhook …      signed webhooks for approval events (add, list, show, delete)
  keys …                  rotate and list signing keys
  audit …                 verify and list the audit trail

Every command takes --db <url> (sqlite:<path> or postgres://…; default sqlite:./.mandate/mandate.db, or
MANDATE_DATABASE_URL) and --json. Run \`mandate <command> --help\` for details.`;

/** Each command's module, loaded only when it runs: `agent list` need not load the HTTP server. */
const commands: Record<string, () => Promise<{ help: string; run(args: string[]): Promise<number | void> }>> = {
  serve: async () => import('./commands/serve.ts').then((m) => ({ help: m.serveHelp, run: m.serveCommand })),
  agent: async () => import('./commands/agent.ts').then((m) => ({ help: m.agentHelp, run: m.agentCommand })),
  client: async () => import('./commands/client.ts').then((m) => ({ help: m.clientHelp, run: m.clientCommand })),
  user: async () => import('./commands/user.ts').then((m) => ({ help: m.userHelp, run: m.userCommand })),
  resource: async () => import('./commands/resource.ts').then((m) => ({ help: m.resourceHelp, run: m.resourceCommand })),
  'admin-token': async () => import('./commands/admin-token.ts').then((m) => ({ help: m.adminTokenHelp, run: m.adminTokenCommand })),
  'approval-webhook': async () => import('./commands/approval-webhook.ts').then((m) => ({ help: m.approvalWebhookHelp, run: m.approvalWebhookCommand })),
  keys: async () => import('./commands/keys.ts').then((m) => ({ help: m.keysHelp, run: m.keysCommand })),
  audit: async () => import('./commands/audit.ts').then((m) => ({ help: m.auditHelp, run: m.auditCommand })),
  migrate: async () => ({ help: migrateHelp, run: migrateCommand }),
};

const migrateHelp = 'mandate migrate [--db <url>] [--json]\n\n  Applies pending migrations of the store the URL names.';

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
  const load = commands[command];
  if (!load) {
    process.stderr.write(`unknown command ${command}\n\n${help}\n`);
    return 2;
  }
  const module = await load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${module.help}\n`);
    return 0;
  }
  try {
    return (await module.run(args)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
    const expected = expectedFailure(err);
    if (expected !== null) {
      process.stderr.write(`error: ${expected}\n`);
      return 1;
    }
    throw err;
  }
}

/**
 * The message of a failure an operator can fix (bad input, a file, the database, the KEK), printed as one line
 * without a stack trace; null for anything else, which is a bug and keeps its stack.
 */
function expectedFailure(err: unknown): string | null {
  if (
    err instanceof ManagementError ||
    err instanceof ConfigError ||
    err instanceof KekError ||
    err instanceof StoreUnavailableError ||
    err instanceof CliInputError ||
    err instanceof AuditAnchorError
  ) {
    return err.message;
  }
  // A system call that failed (a file not found or not readable, a port in use): Node's message names the call.
  const system = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof system.syscall === 'string' && typeof system.code === 'string') return err.message;
  return null;
}
