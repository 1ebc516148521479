import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runOnBehalfOf } from '../examples/agent/src/on-behalf-of.ts';
import { createReporter } from '../examples/agent/src/reporter.ts';
import type { Reporter } from '../examples/agent/src/reporter.ts';
import { AgentAuthClient } from '@mandate/sdk/agent';
import { isMandateError } from '@mandate/sdk/errors';
import { mandateJson } from './demo-resource.ts';

/**
 * `npm run demo:obo`: the demo agent acting on behalf of a user, next to `npm start`'s servers. It sets up what it
 * needs through `mandate` commands (an agent allowed `calc files:read` at the demo MCP server, and a public
 * application with the loopback redirect URI `http://127.0.0.1/callback`), keeps their ids in
 * `.mandate/obo-demo.json` (mode 0600, with the agent's secret) and the user's tokens in `.mandate/obo-tokens.json`,
 * prints the login URL, and once the user has approved, calls the MCP server's `whoami` with the delegated token.
 *
 * Flags: --login (sign in again even with a stored authorization), --port <n> (redirect port; 0 = any free one),
 * --json (one JSON event per line). Environment: MANDATE_ISSUER, MCP_URL (or PORT, MCP_PORT), MANDATE_DATABASE_URL,
 * and MANDATE_CLIENT_ID / MANDATE_CLIENT_SECRET / MANDATE_APP_CLIENT_ID to bring your own agent and application.
 */

interface DemoState {
  issuer: string;
  mcp_url: string;
  agent: { client_id: string; client_secret: string };
  app: { client_id: string };
  /** The token store key of the last authorization. */
  token_key?: string;
}

const REDIRECT_URI = 'http://127.0.0.1/callback';
const SCOPE = 'calc files:read';

const { values } = parseArgs({
  options: {
    login: { type: 'boolean', default: false },
    port: { type: 'string', default: process.env['OBO_CALLBACK_PORT'] ?? '0' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write('usage: npm run demo:obo -- [--login] [--port <n>] [--json]\n(see docs/demo.md, "On behalf of a user")\n');
  process.exit(0);
}
const reporter = createReporter(values.json);
const issuer = process.env['MANDATE_ISSUER'] || `http://localhost:${process.env['PORT'] || 8787}`;
const mcpUrl = process.env['MCP_URL'] || `http://localhost:${process.env['MCP_PORT'] || 8788}/mcp`;
const stateDir = resolve('.mandate');
const statePath = join(stateDir, 'obo-demo.json');

function readState(): DemoState | undefined {
  if (!existsSync(statePath)) return undefined;
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as DemoState;
  return state.issuer === issuer && state.mcp_url === mcpUrl ? state : undefined;
}

function writeState(state: DemoState): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(statePath, 0o600);
}

/** True when the agent's credentials still work (the database may have been reset since they were stored). */
async function agentWorks(agent: DemoState['agent']): Promise<boolean> {
  try {
    await new AgentAuthClient({ issuer, clientId: agent.client_id, clientSecret: agent.client_secret }).getAgentToken({ resource: mcpUrl });
    return true;
  } catch (err) {
    if (isMandateError(err) && err.code === 'ERR_TOKEN_REQUEST_FAILED' && err.error === 'invalid_client') return false;
    throw err;
  }
}

/** The agent and the application: from the environment, from an earlier run, or created now with `mandate`. */
async function ensureAgentAndApp(reporter: Reporter): Promise<DemoState> {
  const fromEnv = process.env['MANDATE_CLIENT_ID'] && process.env['MANDATE_CLIENT_SECRET'] && process.env['MANDATE_APP_CLIENT_ID'];
  if (fromEnv) {
    return {
      issuer,
      mcp_url: mcpUrl,
      agent: { client_id: process.env['MANDATE_CLIENT_ID']!, client_secret: process.env['MANDATE_CLIENT_SECRET']! },
      app: { client_id: process.env['MANDATE_APP_CLIENT_ID']! },
    };
  }
  const stored = readState();
  if (stored !== undefined && (await agentWorks(stored.agent))) return stored;
  const agent = await mandateJson<{ client_id: string; client_secret: string }>([
    'agent', 'create', '--name', 'OBO demo agent', '--scope', SCOPE, '--audience', mcpUrl,
    '--description', 'The demo agent of npm run demo:obo: calls the demo MCP server for you.',
  ]);
  const app = await mandateJson<{ client_id: string }>([
    'client', 'create', '--name', 'OBO demo app', '--public', '--redirect-uri', REDIRECT_URI, '--scope', SCOPE, '--audience', mcpUrl,
  ]);
  const state: DemoState = { issuer, mcp_url: mcpUrl, agent: { client_id: agent.client_id, client_secret: agent.client_secret }, app: { client_id: app.client_id } };
  writeState(state);
  reporter.event('setup', { agent: agent.client_id, app: app.client_id }, `created agent ${agent.client_id} and public application ${app.client_id} (redirect ${REDIRECT_URI}); kept in ${statePath}`);
  return state;
}

try {
  const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (metadata?.status !== 200) throw new Error(`no authorization server at ${issuer}: start it with \`npm start\` (or set MANDATE_ISSUER)`);
  const state = await ensureAgentAndApp(reporter);
  if (!values.login) {
    const users = await mandateJson<unknown[]>(['user', 'list']).catch(() => undefined);
    if (users?.length === 0) {
      const db = process.env['MANDATE_DATABASE_URL'] ? `MANDATE_DATABASE_URL=${process.env['MANDATE_DATABASE_URL']} ` : '';
      reporter.event('no_users', {}, `There is no user to sign in as yet. In another terminal:\n  ${db}npx mandate user create --email you@example.com   (it reads the password)`);
    }
  }
  const result = await runOnBehalfOf({
    issuer,
    clientId: state.agent.client_id,
    clientSecret: state.agent.client_secret,
    appClientId: state.app.client_id,
    mcpUrl,
    scope: SCOPE,
    callbackPort: Number(values.port),
    timeoutMs: 10 * 60_000,
    tokenStorePath: join(stateDir, 'obo-tokens.json'),
    ...(state.token_key !== undefined && !values.login ? { rememberedKey: state.token_key } : {}),
    reporter,
  });
  if (result.key !== undefined && !process.env['MANDATE_APP_CLIENT_ID']) writeState({ ...state, token_key: result.key });
  process.exitCode = result.ok ? 0 : 1;
} catch (err) {
  const code = (err as { code?: string }).code;
  reporter.event('error', { message: (err as Error).message, ...(code ? { code } : {}) }, `error: ${(err as Error).message}`);
  process.exitCode = 1;
}
