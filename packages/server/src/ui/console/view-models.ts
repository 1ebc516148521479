/**
 * What the console pages show, as plain shapes: the management views (management/*.ts) and the audit chain report
 * fit them structurally. Declared here because page templates sit below management/ and audit/ in the layers
 * (docs/architecture.md) and import neither.
 */

export type Risk = 'low' | 'medium' | 'high' | 'critical';

export interface ApprovalRow {
  id: string;
  status: string;
  client_id: string;
  chain: string[];
  user_id: string | null;
  scopes: string[];
  resources: string[];
  justification: string | null;
  risk: Risk;
  created_at: number;
  expires_at: number;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
  /** A per-action request (RFC 9396): the single tool call it would allow. */
  authorization_details?: { type: string; tool?: string; arguments_sha256?: string; locations?: string[] }[] | null | undefined;
}

export interface AgentRow {
  client_id: string;
  name: string;
  owner: string | null;
  status: string;
  scopes: string[];
  audiences: string[];
  token_endpoint_auth_method: string;
  previous_secret_expires_at: number | null;
  created_at: number;
}

/** An agent with everything its edit form shows. */
export interface AgentDetail extends AgentRow {
  description: string | null;
  txn_tokens: boolean;
  access_token_ttl_seconds: number | null;
  dpop_bound_access_tokens: boolean;
  backchannel_token_delivery_mode: string;
  backchannel_client_notification_endpoint: string | null;
  jwks: unknown;
  updated_at: number;
}

export interface ClientRow {
  client_id: string;
  name: string;
  description: string | null;
  status: string;
  redirect_uris: string[];
  scopes: string[];
  default_scopes: string[];
  audiences: string[];
  grant_types: string[];
  token_endpoint_auth_method: string;
  created_at: number;
  updated_at: number;
  registration: { source: string } | null;
}

export interface ResourceRow {
  id: string;
  resource: string;
  name: string;
  scopes: { name: string; description: string | null; risk: Risk; policy?: { kind: string } }[];
  updated_at: number;
}

export interface ScopePolicyRow {
  scope: string;
  risk: Risk;
  policy: string;
  role?: string;
  /** admin_approval only: `user` when the user the agent acts for may decide too. */
  approver?: 'approvers' | 'user';
  conditions?: { clients?: string[]; max_token_lifetime_seconds?: number; max_chain_depth?: number; time_window?: { from: string; to: string } };
  version: number;
  source: 'set' | 'default';
}

export interface ScopePolicyVersionRow extends ScopePolicyRow {
  changed_by: string;
  changed_at: number;
}

export interface UserRow {
  id: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  is_admin: boolean;
  roles: string[];
  status: string;
  has_password: boolean;
  created_at: number;
}

export interface GrantRow {
  id: string;
  user_id: string;
  user_email: string | null;
  client_id: string;
  client_name: string;
  actor_id: string | null;
  actor_name: string | null;
  scopes: string[];
  resources: string[];
  created_at: number;
  expires_at: number;
}

export interface TokenRow {
  jti: string;
  grant_type: string;
  subject: string | null;
  client_id: string | null;
  scope: string;
  expires_at: number;
  revoked: boolean;
}

export interface AuditEventRow {
  seq: number;
  time: string;
  event: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  detail: Record<string, unknown>;
}

export interface ChainReportView {
  ok: boolean;
  rowsChecked: number;
  head: { seq: number };
  anchor: { seq: number } | null;
  prunedThrough: number;
  problem: { seq: number; message: string } | null;
}
