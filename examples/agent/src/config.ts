import { parseArgs } from 'node:util';

/** The demo agent's settings: flags first, then environment variables, then defaults. */

export type AgentMode = 'scripted' | 'openai' | 'stdin';

export interface AgentConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  mcpUrl: string;
  scope: string;
  mode: AgentMode;
  json: boolean;
  /** Used in `openai` mode only (`model` is then required). */
  chat: { baseUrl: string; apiKey: string | undefined; model: string; prompt: string; maxTurns: number };
}

export const agentHelp = `demo agent: authenticates as itself and calls the demo MCP server's tools

usage: npm run agent -- [options]        (or: node examples/agent/src/main.ts [options])

  --issuer <url>         authorization server (MANDATE_ISSUER, default http://localhost:8787)
  --client-id <id>       the agent's client_id (MANDATE_CLIENT_ID)
  --client-secret <s>    its secret (MANDATE_CLIENT_SECRET; prefer the variable: flags show in ps)
  --mcp-url <url>        the MCP server (MCP_URL, default http://localhost:8788/mcp)
  --scope "<s1 s2>"      scopes to request (MANDATE_AGENT_SCOPE, default "calc files:read")
  --mode <mode>          scripted (default): whoami, add, list_files, read_file, write_file; no model needed
                         openai: a tool-calling loop with an OpenAI-compatible endpoint
                           (OPENAI_BASE_URL, default https://api.openai.com/v1; OPENAI_API_KEY;
                           MANDATE_AGENT_MODEL, required; --prompt "<task>"; --max-turns 8)
                         stdin: one {"tool": ..., "arguments": {...}} per input line
  --json                 one JSON object per line instead of text`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const defaultPrompt = 'Find out who you are, add 2 and 3, then list the files in the sandbox and summarise one of them.';

export function agentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'mcp-url': { type: 'string' },
      scope: { type: 'string' },
      mode: { type: 'string' },
      prompt: { type: 'string' },
      'max-turns': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const mode = values.mode ?? env['MANDATE_AGENT_MODE'] ?? 'scripted';
  if (mode !== 'scripted' && mode !== 'openai' && mode !== 'stdin') throw new UsageError(`--mode must be scripted, openai or stdin, got "${mode}"`);
  const clientId = values['client-id'] ?? env['MANDATE_CLIENT_ID'];
  const clientSecret = values['client-secret'] ?? env['MANDATE_CLIENT_SECRET'];
  if (!clientId || !clientSecret) {
    throw new UsageError('the agent needs its credentials: MANDATE_CLIENT_ID and MANDATE_CLIENT_SECRET (from `npx mandate agent create … --json`)');
  }
  const maxTurns = values['max-turns'] ?? '8';
  if (!/^\d+$/.test(maxTurns) || Number(maxTurns) < 1) throw new UsageError('--max-turns must be a positive whole number');
  const model = env['MANDATE_AGENT_MODEL'] || undefined;
  if (mode === 'openai' && model === undefined) throw new UsageError('--mode openai needs MANDATE_AGENT_MODEL (and OPENAI_BASE_URL / OPENAI_API_KEY as your endpoint needs)');
  return {
    issuer: values.issuer ?? env['MANDATE_ISSUER'] ?? 'http://localhost:8787',
    clientId,
    clientSecret,
    mcpUrl: values['mcp-url'] ?? env['MCP_URL'] ?? 'http://localhost:8788/mcp',
    scope: values.scope ?? env['MANDATE_AGENT_SCOPE'] ?? 'calc files:read',
    mode,
    json: values.json,
    chat: {
      baseUrl: env['OPENAI_BASE_URL'] || 'https://api.openai.com/v1',
      apiKey: env['OPENAI_API_KEY'] || undefined,
      model: model ?? '',
      prompt: values.prompt ?? defaultPrompt,
      maxTurns: Number(maxTurns),
    },
  };
}
