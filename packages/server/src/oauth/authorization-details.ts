import { MCP_TOOL_DETAIL_TYPE } from '@mandate/protocol';
import { z } from 'zod';
import { OAuthError } from './oauth-error.ts';
import { canonicalResourceUri } from './resource-uri.ts';

/**
 * RFC 9396 `authorization_details` as a request parameter (authorization request, CIBA, token request): a JSON
 * array of objects, each validated by the zod schema of its `type`. Every way a detail can be wrong (not JSON, an
 * unknown type, an unknown member, a member of the wrong type, a bad value, a missing member) is refused with
 * `invalid_authorization_details` (RFC 9396 §5, RAR-01..05), naming what is wrong.
 */

const resourceLocation = z.string().transform((value, ctx) => {
  const uri = canonicalResourceUri(value);
  if (uri === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) resource URI without a fragment' });
    return z.NEVER;
  }
  return uri;
});

/** `mcp_tool`: one MCP tool call, approved before it is made. */
const mcpToolDetail = z
  .object({
    type: z.literal(MCP_TOOL_DETAIL_TYPE),
    tool: z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/, 'must be printable'),
    arguments_sha256: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the canonical JSON of the arguments'),
    // RFC 9396 §2.2: the resource the call is made at; when absent, the request's one `resource`.
    locations: z.array(resourceLocation).length(1, 'names the one MCP server the call is made at').optional(),
    actions: z.array(z.literal('call')).min(1).optional(),
  })
  .strict();

/** The zod schema of every supported type: `authorization_details_types_supported` lists their names. */
const DETAIL_SCHEMAS = { [MCP_TOOL_DETAIL_TYPE]: mcpToolDetail } as const;

export const AUTHORIZATION_DETAILS_TYPES_SUPPORTED: readonly string[] = Object.keys(DETAIL_SCHEMAS);

/** An `mcp_tool` detail as parsed: `locations` may still be absent until the request's resource fills it in. */
export type RequestedMcpToolDetail = z.infer<typeof mcpToolDetail>;

export const invalidAuthorizationDetails = (description: string) => new OAuthError('invalid_authorization_details', description);

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
  if (issue.code === 'unrecognized_keys') return `unknown member${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  return `${path.slice(1) || 'value'} ${issue.message}`;
}

/**
 * Parses the `authorization_details` parameter: undefined when absent. One `mcp_tool` detail per request: the
 * token it yields approves one action.
 */
export function parseAuthorizationDetails(value: string | undefined): RequestedMcpToolDetail[] | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidAuthorizationDetails('authorization_details must be a JSON array of objects');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw invalidAuthorizationDetails('authorization_details must be a non-empty JSON array of objects');
  const details: RequestedMcpToolDetail[] = [];
  for (const [index, item] of parsed.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidAuthorizationDetails(`authorization_details[${index}] must be an object`);
    const type = (item as { type?: unknown }).type;
    if (typeof type !== 'string') throw invalidAuthorizationDetails(`authorization_details[${index}].type is required and must be a string`);
    const schema = (DETAIL_SCHEMAS as Record<string, typeof mcpToolDetail>)[type];
    if (!schema) throw invalidAuthorizationDetails(`authorization_details[${index}].type ${JSON.stringify(type)} is not supported (supported: ${AUTHORIZATION_DETAILS_TYPES_SUPPORTED.join(', ')})`);
    const result = schema.safeParse(item);
    if (!result.success) throw invalidAuthorizationDetails(`authorization_details[${index}] (${type}): ${result.error.issues.map(describeIssue).join('; ')}`);
    details.push(result.data);
  }
  if (details.length > 1) throw invalidAuthorizationDetails('one mcp_tool detail per request: a token approves one action');
  return details;
}
