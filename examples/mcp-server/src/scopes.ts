/**
 * The demo MCP server's scopes and which tool needs which. One source for the server (its guard and its RFC 9728
 * metadata) and for `npm start`, which registers the resource with these scopes and risk levels at the AS.
 */

export type RiskLevel = 'low' | 'medium' | 'high';

export interface DemoScope {
  name: string;
  risk: RiskLevel;
  description: string;
  /** A scope policy set at registration, where the risk's default does not suit the demo. */
  policy?: 'user_consent';
}

export const demoScopes: readonly DemoScope[] = [
  { name: 'calc', risk: 'low', description: 'Use the calculator' },
  { name: 'files:read', risk: 'low', description: 'List and read files in the sandbox' },
  { name: 'files:write', risk: 'medium', description: 'Create and overwrite files in the sandbox' },
  // High risk defaults to an approver's approval; the demo runs with one user and no approver, so that user's
  // consent decides (docs/demo.md says how to put approvers back in charge).
  { name: 'exec', risk: 'high', description: 'Run allow-listed commands on the server', policy: 'user_consent' },
];

/**
 * Scopes the 401 challenge names: what an MCP client asks for on its first authorization (MCP "Scope Selection
 * Strategy"). The low-risk ones; `files:write` and `exec` come later, by step-up on the 403 of a tool that needs
 * them, so a user is never asked for the risky scopes up front.
 */
export const firstCallScopes: readonly string[] = demoScopes.filter((s) => s.risk === 'low').map((s) => s.name);

/** Scopes a `tools/call` of each tool needs. `whoami` needs none: any valid token for this resource may ask. */
export const toolScopes = {
  add: ['calc'],
  whoami: [],
  list_files: ['files:read'],
  read_file: ['files:read'],
  write_file: ['files:write'],
  run_command: ['exec'],
} as const satisfies Record<string, readonly string[]>;

export type DemoToolName = keyof typeof toolScopes;
