import type { AuthorizationDetail } from '@mandate/protocol';
import type { AuditEvent } from '../audit/audit-log.ts';
import type { AuthenticatedClient } from '../oauth/client-authentication.ts';
import type { FormParams } from '../oauth/form-params.ts';
import type { IssuedTokenRecords } from '../store/store.ts';

/** What a grant's `handle` receives: the authenticated client and its own parsed request, never an HTTP object. */
export interface GrantInput<Request> {
  client: AuthenticatedClient;
  request: Request;
  now: number;
  /**
   * The RFC 7638 thumbprint of the key of a verified DPoP proof sent with the request (RFC 9449 §5), or undefined
   * without one: the token is then bound to that key (`cnf.jkt`, `token_type: DPoP`).
   */
  dpopJkt: string | undefined;
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
  /** RFC 9396 §7: the granted authorization details. */
  authorization_details?: AuthorizationDetail[];
}

export interface GrantResult {
  response: TokenResponse;
  /** The audit row for the issuance (`token.issued`); the endpoint records it before answering. */
  audit: AuditEvent;
  /** The records of the issued tokens, written in the audit row's transaction (`AuditLog.record`), never before it. */
  records?: IssuedTokenRecords;
}

/**
 * One file per grant, each exporting this shape (as oidc-provider does): the grant type it handles, the
 * parameters that may repeat, a `parse` step from form parameters to the grant's own plain request (missing or
 * malformed parameters are refused here, before any lookup), and `handle` from that request to a token response.
 */
export interface Grant<Request = unknown> {
  readonly grantType: string;
  /** Parameters this grant allows more than once (RFC 8707 `resource`, RFC 8693 `audience`). */
  readonly repeatable: ReadonlySet<string>;
  /** Only confidential clients may use it (RFC 6749 §4.4: client credentials are a secret or a key). */
  readonly confidentialClientsOnly?: boolean;
  /** An alias: the grant type a client must hold to use this one (`jwt-dpop` is held as `jwt-bearer`). */
  readonly heldAs?: string;
  parse(params: FormParams): Request;
  handle(input: GrantInput<Request>): Promise<GrantResult>;
}

/** RFC 9449 §5: `DPoP` for a token bound to a proof's key, `Bearer` otherwise. */
export const tokenTypeFor = (dpopJkt: string | undefined): 'DPoP' | 'Bearer' => (dpopJkt === undefined ? 'Bearer' : 'DPoP');
