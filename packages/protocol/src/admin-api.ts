/**
 * The admin REST API's wire shapes (`/admin/v1/…`), written once: the server's management views are these types,
 * and the SDK's admin client (`@mandate/sdk/admin`) reads them.
 */

/** An agent as the admin API shows it (never its secret; the secret comes once, on creation and rotation). */
export interface AdminAgent {
  client_id: string;
  name: string;
  description: string | null;
  owner: string | null;
  status: 'active' | 'disabled';
  scopes: string[];
  audiences: string[];
  /** May request Transaction Tokens (draft-ietf-oauth-transaction-tokens) at the token endpoint. Default false. */
  txn_tokens: boolean;
  /**
   * May redeem other domains' JWT authorization grants with the RFC 7523 `jwt-bearer` grant (a workload's JWT, an
   * identity chaining grant, an ID-JAG: docs/cross-domain.md). Default false.
   */
  jwt_bearer: boolean;
  access_token_ttl_seconds: number | null;
  /** RFC 9449 §5.2: every token request must carry a DPoP proof. */
  dpop_bound_access_tokens: boolean;
  /** OpenID CIBA Core 1.0 §4: `poll` (the default) or `ping`, and where a ping goes. */
  backchannel_token_delivery_mode: 'poll' | 'ping';
  backchannel_client_notification_endpoint: string | null;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  /** The public keys of a `private_key_jwt` agent. */
  jwks: { keys: Record<string, unknown>[] } | null;
  /** Until when the secret a rotation replaced still works (its grace period), or null. */
  previous_secret_expires_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A scope a resource defines, with the risk level and description the consent page shows. */
export interface AdminResourceScope {
  name: string;
  description: string | null;
  risk: 'low' | 'medium' | 'high' | 'critical';
  /** Its scope policy (`kind`: auto, user_consent, admin_approval, role_required, deny; docs/policies.md); absent: its risk's default. */
  policy?: { kind: string; role?: string; conditions?: object };
}

/** A resource server (an API or MCP server) as the admin API shows it (never its API key). */
export interface AdminResource {
  id: string;
  resource: string;
  name: string;
  scopes: AdminResourceScope[];
  /** What a client that asks for no scope (and has no defaults of its own) gets here. */
  default_scopes: string[];
  /** The downstream resources this resource server may exchange its tokens into (RFC 8693). */
  downstream_resources: string[];
  /** May request Transaction Tokens (draft-ietf-oauth-transaction-tokens) with its API key. Default false. */
  txn_tokens: boolean;
  created_at: number;
  updated_at: number;
}

/** RFC 9457 problem details, the admin API's error format; `type` is `urn:mandate:problem:<kind>`. */
export interface AdminProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Field-level errors of an `invalid-request` problem. */
  errors?: { path: string; message: string }[];
}
