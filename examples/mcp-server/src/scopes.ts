/**
 * The demo MCP server's scopes and which tool needs which. One source for the server (its guard and its RFC 9728
 * metadata) and for `npm start`, which registers the resource with these scopes and risk levels at the AS.
 */

export type RiskLevel = 'low' | 'medium' | 'high';

export interface DemoScope {
  name: string;
  risk: RiskLevel;
  description: string;
}

export const demoScopes: readonly DemoScope[] = [
  { name: 'calc', risk: 'low', description: 'Use the calculator' },
  { name: 'files:read', risk: 'low', description: 'List and read files in the sandbox' },
  { name: 'files:write', risk: 'medium', description: 'Create and overwrite files in the sandbox' },
  { name: 'exec', risk: 'high', description: 'Run allow-listed commands on the server' },
];

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
