/** Errors of per-action approvals (issue 12 item 4): single-use action tokens for one tool call. */

import { MandateError } from './base.ts';

/**
 * A tool call that needs a per-action approval (issue 12 item 4) came with a token that approves no such call: none
 * at all, another tool, other arguments or another server. `authorizationDetails` is what to ask approval for
 * (RFC 9396 `mcp_tool`), so that the caller can ask and retry.
 */
export class ActionNotApproved extends MandateError {
  declare readonly code: 'ERR_ACTION_NOT_APPROVED';
  readonly tool: string;
  readonly argumentsSha256: string;
  readonly authorizationDetails: { type: 'mcp_tool'; tool: string; arguments_sha256: string; locations: string[] }[];
  constructor(message: string, detail: { tool: string; argumentsSha256: string; resource: string | undefined }) {
    super('ERR_ACTION_NOT_APPROVED', message);
    this.tool = detail.tool;
    this.argumentsSha256 = detail.argumentsSha256;
    this.authorizationDetails = [{ type: 'mcp_tool', tool: detail.tool, arguments_sha256: detail.argumentsSha256, locations: detail.resource === undefined ? [] : [detail.resource] }];
  }
}

/** A single-use action token was used before (the authorization server recorded its first use, on any instance). */
export class ActionTokenUsed extends MandateError {
  declare readonly code: 'ERR_ACTION_TOKEN_USED';
  constructor(message = 'the single-use action token was already used') {
    super('ERR_ACTION_TOKEN_USED', message);
  }
}

/** The use of an action token could not be recorded at the authorization server (unreachable, or a bad answer): the call is refused. */
export class ActionUseFailed extends MandateError {
  declare readonly code: 'ERR_ACTION_USE_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ACTION_USE_FAILED', message, options);
  }
}
