/**
 * The chat's settings, from the environment in this one place.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `MANDATE_ISSUER` | `http://localhost:8787` | the authorization server |
 * | `MCP_URL` | `http://localhost:8788/mcp` | the demo MCP server (its resource URI) |
 * | `CHAT_PORT`, `CHAT_HOST` | `8790`, `127.0.0.1` | where the chat listens (its redirect URI is `http://<host>:<port>/callback`) |
 * | `CHAT_SCOPE` | `calc files:read` | what the person is asked for at sign-in; other scopes need an approval when a tool needs them |
 * | `MANDATE_AGENT_MODEL` | none | a model name: answer with it (OpenAI chat-completions wire format) instead of the offline rules |
 * | `OPENAI_BASE_URL`, `OPENAI_API_KEY` | `https://api.openai.com/v1`, none | the model's endpoint (any compatible server: Ollama, vLLM, llama.cpp) |
 * | `MANDATE_CLIENT_ID`, `MANDATE_CLIENT_SECRET`, `MANDATE_APP_CLIENT_ID`, `MANDATE_APP_CLIENT_SECRET` | none | bring your own agent and application instead of the ones `npm run chat` creates |
 */

export interface ChatConfig {
  issuer: string;
  mcpUrl: string;
  host: string;
  port: number;
  scope: string;
  model: { baseUrl: string; apiKey: string | undefined; model: string } | undefined;
  credentials: { agent: { clientId: string; clientSecret: string }; app: { clientId: string; clientSecret: string } } | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function chatConfigFromEnv(env: NodeJS.ProcessEnv): ChatConfig {
  const port = env['CHAT_PORT'] || '8790';
  if (!/^\d+$/.test(port) || Number(port) > 65_535) throw new ConfigError(`CHAT_PORT must be a port number, got "${port}"`);
  const model = env['MANDATE_AGENT_MODEL'] || undefined;
  const ids = [env['MANDATE_CLIENT_ID'], env['MANDATE_CLIENT_SECRET'], env['MANDATE_APP_CLIENT_ID'], env['MANDATE_APP_CLIENT_SECRET']];
  if (ids.some(Boolean) && !ids.every(Boolean)) {
    throw new ConfigError('bring all four of MANDATE_CLIENT_ID, MANDATE_CLIENT_SECRET, MANDATE_APP_CLIENT_ID and MANDATE_APP_CLIENT_SECRET, or none');
  }
  const [agentId, agentSecret, appId, appSecret] = ids as string[];
  return {
    issuer: env['MANDATE_ISSUER'] || 'http://localhost:8787',
    mcpUrl: env['MCP_URL'] || 'http://localhost:8788/mcp',
    host: env['CHAT_HOST'] || '127.0.0.1',
    port: Number(port),
    scope: env['CHAT_SCOPE'] || 'calc files:read',
    model: model === undefined ? undefined : { baseUrl: env['OPENAI_BASE_URL'] || 'https://api.openai.com/v1', apiKey: env['OPENAI_API_KEY'] || undefined, model },
    credentials: agentId ? { agent: { clientId: agentId, clientSecret: agentSecret! }, app: { clientId: appId!, clientSecret: appSecret! } } : undefined,
  };
}
