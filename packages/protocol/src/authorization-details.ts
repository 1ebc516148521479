/**
 * RFC 9396 Rich Authorization Requests: the authorization detail types Mandate understands, as they are on the wire
 * (the server validates them with a zod schema per type; the SDK builds and checks them).
 */

/** The `type` of a per-action approval of one MCP tool call (a Mandate type, not a registered one). */
export const MCP_TOOL_DETAIL_TYPE = 'mcp_tool';

/**
 * One approved MCP tool call: `tool` is the tool's name, `arguments_sha256` the {@link argumentsSha256} of its
 * arguments, `locations` the MCP server's resource URI (RFC 9396 §2.2 common field). A token carrying it is
 * good for that one call, once.
 */
export interface McpToolAuthorizationDetail extends AuthorizationDetail {
  type: typeof MCP_TOOL_DETAIL_TYPE;
  tool: string;
  arguments_sha256: string;
  locations: string[];
  /** RFC 9396 §2.2 `actions`: `call`, the only action of a tool. */
  actions?: string[];
}

/** An RFC 9396 §2 authorization detail as it appears in a token or a token response. */
export interface AuthorizationDetail {
  type: string;
  locations?: string[];
  actions?: string[];
  [member: string]: unknown;
}

/** The `mcp_tool` details among `details` (a token's `authorization_details` claim, unchecked input). */
export function mcpToolDetails(details: unknown): McpToolAuthorizationDetail[] {
  if (!Array.isArray(details)) return [];
  return details.filter(
    (d): d is McpToolAuthorizationDetail =>
      typeof d === 'object' && d !== null && d.type === MCP_TOOL_DETAIL_TYPE && typeof d.tool === 'string' && typeof d.arguments_sha256 === 'string' && Array.isArray(d.locations),
  );
}
