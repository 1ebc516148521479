/**
 * Per-action approvals (issue 12 item 4): which tools of a resource take one, and the single use of the token an
 * approval yields. The approval itself is an approval request (store.ts) with the `mcp_tool` detail it approves.
 */

type Risk = 'low' | 'medium' | 'high' | 'critical';

/** A tool of a resource server that takes per-action approvals. */
export interface ToolPolicyRecord {
  resourceId: string;
  tool: string;
  /** Calls of the tool are approved one by one: an `mcp_tool` authorization detail may name it. */
  perActionApproval: boolean;
  /** What approvers see; a critical one needs a fresh sign-in to approve. */
  risk: Risk;
  updatedBy: string;
  updatedAt: number;
}

export interface ToolPolicyRecords {
  /** Sets (inserts or replaces) a tool's policy. */
  setToolPolicy(record: ToolPolicyRecord): Promise<void>;
  getToolPolicy(resourceId: string, tool: string): Promise<ToolPolicyRecord | null>;
  listToolPolicies(resourceId: string): Promise<ToolPolicyRecord[]>;
  deleteToolPolicy(resourceId: string, tool: string): Promise<boolean>;
}

/** The first use of a single-use action token, as the resource server reported it. */
export interface ActionTokenUseRecord {
  jti: string;
  resource: string;
  clientId: string;
  subject: string;
  tool: string;
  argumentsSha256: string;
  usedAt: number;
  /** The token's `exp`: the row is purged after it. */
  expiresAt: number;
}

export interface ActionTokenUseRecords {
  /** Records the use; false when the token was used before (by any instance): exactly once, atomically. */
  recordActionTokenUse(record: ActionTokenUseRecord): Promise<boolean>;
  getActionTokenUse(jti: string): Promise<ActionTokenUseRecord | null>;
}
