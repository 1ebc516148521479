import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type McpToolAuthorizationDetail, mcpToolDetails } from '@mandate/protocol';

/**
 * Per-action approvals on the agent's side (issue 12 item 4): recognise the MCP server's refusal of a call that
 * needs one, and make the call with the single-use token an approval yields.
 */

/**
 * The `mcp_tool` details to ask approval for when `err` is an MCP server's 403 `action_approval_required` (as
 * `createMcpAuth` answers a call that needs a per-action approval), else undefined.
 *
 * @example
 * try { await client.callTool({ name: 'run_command', arguments: args }); }
 * catch (err) { if (!actionApprovalRequired(err)) throw err; // ask: agent.requestToolCallApproval(…) }
 */
export function actionApprovalRequired(err: unknown): McpToolAuthorizationDetail[] | undefined {
  if (!(err instanceof StreamableHTTPError) || err.code !== 403) return undefined;
  // The transport puts the response body after this prefix (MCP TS SDK 1.x, StreamableHTTPClientTransport.send).
  const at = err.message.indexOf('{');
  if (at < 0) return undefined;
  try {
    const body = JSON.parse(err.message.slice(at)) as { error?: unknown; authorization_details?: unknown };
    if (body.error !== 'action_approval_required') return undefined;
    return mcpToolDetails(body.authorization_details);
  } catch {
    return undefined;
  }
}

/** Options of {@link callToolWithActionToken}. */
export interface ActionCallOptions {
  /** The MCP server's Streamable HTTP endpoint. */
  url: string | URL;
  /** The single-use access token an approval of this call yielded. */
  token: string;
  name: string;
  /** Exactly the arguments that were approved. */
  arguments?: Record<string, unknown>;
  clientInfo?: { name: string; version: string };
  fetch?: typeof fetch;
}

/**
 * Makes one approved tool call on a connection of its own, presenting the single-use token, and closes it. The
 * token is spent by this call: a second call with it is refused by the server (401 `invalid_token`).
 */
export async function callToolWithActionToken(options: ActionCallOptions): ReturnType<Client['callTool']> {
  const client = new Client(options.clientInfo ?? { name: 'mandate-action', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: { authorization: `Bearer ${options.token}` } },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await client.connect(transport);
  try {
    return await client.callTool({ name: options.name, arguments: options.arguments ?? {} });
  } finally {
    await client.close();
  }
}
