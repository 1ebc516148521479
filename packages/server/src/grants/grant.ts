import type { AuthenticatedClient } from '../oauth/client-authentication.ts';
import type { FormParams } from '../oauth/form-params.ts';
import type { AuditEvent } from '../audit/audit-log.ts';

/** What every grant receives: the authenticated client and the request's parameters, never an HTTP object. */
export interface GrantInput {
  client: AuthenticatedClient;
  params: FormParams;
  ip: string;
  now: number;
}

/** RFC 6749 §5.1 (and RFC 8693 §2.2.1) successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP' | 'N_A';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  issued_token_type?: string;
}

export interface GrantResult {
  response: TokenResponse;
  /** The audit row for the issuance (`token.issued`); the endpoint records it before answering. */
  audit: AuditEvent;
}

/**
 * One file per grant, each exporting this shape (as oidc-provider does): the grant type it handles, the
 * parameters that may repeat, and a handler from plain input to a token response.
 */
export interface Grant {
  readonly grantType: string;
  /** Parameters this grant allows more than once (RFC 8707 `resource`, RFC 8693 `audience`). */
  readonly repeatable: ReadonlySet<string>;
  handle(input: GrantInput): Promise<GrantResult>;
}
