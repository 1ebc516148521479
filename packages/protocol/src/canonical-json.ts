import { createHash } from 'node:crypto';

/**
 * The JSON Canonicalization Scheme (RFC 8785): object members sorted by their names' UTF-16 code units, no
 * whitespace, strings and numbers as ECMAScript's JSON.stringify writes them. Written once here because the two
 * sides of a per-action approval must hash the same arguments to the same bytes: the agent (SDK client) when it
 * asks for the approval, the MCP server (SDK adapter) when the call arrives.
 *
 * @throws TypeError for a value JSON cannot hold (a non-finite number, a bigint, a function, `undefined` in an array).
 * @see https://www.rfc-editor.org/rfc/rfc8785
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no non-finite numbers');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    // RFC 8785 §3.2.3: members sorted by name as UTF-16 code units (the default sort); undefined members are absent.
    const names = Object.keys(value).filter((name) => (value as Record<string, unknown>)[name] !== undefined).sort();
    return `{${names.map((name) => `${JSON.stringify(name)}:${canonicalJson((value as Record<string, unknown>)[name])}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/**
 * `arguments_sha256` of an `mcp_tool` authorization detail: the base64url SHA-256 of the canonical JSON of a tool
 * call's arguments (absent arguments are `{}`, as MCP `tools/call` treats them).
 */
export function argumentsSha256(args: unknown): string {
  return createHash('sha256').update(canonicalJson(args ?? {}), 'utf8').digest('base64url');
}
