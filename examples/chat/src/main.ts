import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AgentAuthClient } from '@mandate/sdk/agent';
import { isMandateError } from '@mandate/sdk/errors';
import { mandateJson } from '../../../scripts/demo-resource.ts';
import { startChatServer } from './chat-server.ts';
import { type ChatConfig, chatConfigFromEnv, ConfigError } from './config.ts';
import { modelAgent } from './model-agent.ts';
import { ruleAgent } from './rule-agent.ts';

/**
 * `npm run chat`: the web chat next to `npm start`'s servers. Unless MANDATE_CLIENT_ID … bring them, it creates
 * an agent (allowed the demo's scopes, `exec` and `files:write` included) and the chat's confidential application
 * (redirect URI `http://<host>:<port>/callback`) through `mandate` commands, and keeps them in
 * `.mandate/chat-demo.json` (mode 0600: it holds both secrets).
 */

type Credentials = NonNullable<ChatConfig['credentials']>;

interface Stored extends Credentials {
  issuer: string;
  mcp_url: string;
  redirect_uri: string;
}

const AGENT_SCOPES = 'calc files:read files:write exec';
const statePath = join(resolve('.mandate'), 'chat-demo.json');

async function agentWorks(config: ChatConfig, agent: Credentials['agent']): Promise<boolean> {
  try {
    await new AgentAuthClient({ issuer: config.issuer, ...agent }).getActorToken();
    return true;
  } catch (err) {
    if (isMandateError(err) && err.code === 'ERR_TOKEN_REQUEST_FAILED' && err.error === 'invalid_client') return false;
    throw err;
  }
}

async function ensureCredentials(config: ChatConfig, redirectUri: string): Promise<Credentials> {
  if (config.credentials) return config.credentials;
  if (existsSync(statePath)) {
    const stored = JSON.parse(readFileSync(statePath, 'utf8')) as Stored;
    if (stored.issuer === config.issuer && stored.mcp_url === config.mcpUrl && stored.redirect_uri === redirectUri && (await agentWorks(config, stored.agent))) return stored;
  }
  const agent = await mandateJson<{ client_id: string; client_secret: string }>([
    'agent', 'create', '--name', 'Chat demo agent', '--scope', AGENT_SCOPES, '--audience', config.mcpUrl,
    '--description', 'The agent of npm run chat: calls the demo MCP server for the person chatting with it.',
  ]);
  const app = await mandateJson<{ client_id: string; client_secret: string }>([
    'client', 'create', '--name', 'Demo chat', '--redirect-uri', redirectUri, '--scope', config.scope, '--audience', config.mcpUrl,
  ]);
  const stored: Stored = {
    issuer: config.issuer,
    mcp_url: config.mcpUrl,
    redirect_uri: redirectUri,
    agent: { clientId: agent.client_id, clientSecret: agent.client_secret },
    app: { clientId: app.client_id, clientSecret: app.client_secret },
  };
  mkdirSync(resolve('.mandate'), { recursive: true, mode: 0o700 });
  writeFileSync(statePath, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  chmodSync(statePath, 0o600);
  console.log(`created agent ${agent.client_id} and application ${app.client_id} (redirect ${redirectUri}); kept in ${statePath}`);
  return stored;
}

try {
  const config = chatConfigFromEnv(process.env);
  const metadata = await fetch(`${config.issuer}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (metadata?.status !== 200) throw new ConfigError(`no authorization server at ${config.issuer}: start it with \`npm start\` (or set MANDATE_ISSUER)`);
  const origin = `http://${config.host}:${config.port}`;
  const credentials = await ensureCredentials(config, `${origin}/callback`);
  const chat = await startChatServer({
    issuer: config.issuer,
    mcpUrl: config.mcpUrl,
    ...credentials,
    scope: config.scope,
    brain: config.model ? modelAgent({ ...config.model, maxRequests: 8 }) : ruleAgent,
    mode: config.model ? `model ${config.model.model}` : 'offline rules',
    host: config.host,
    port: config.port,
    log: (line) => console.log(line),
  });
  console.log(`Demo chat on ${chat.url} (agent ${credentials.agent.clientId})`);
  const stop = () => void chat.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`npm run chat: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
