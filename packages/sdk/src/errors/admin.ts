/** Errors of the admin API client, and of an approval webhook's receiver. */

import { MandateError } from './base.ts';

/**
 * The admin API refused a request (an RFC 9457 problem) or could not be reached (status 0). `problem` is the kind
 * of problem (`not-found`, `invalid-request`, `conflict`, `unauthorized`, `forbidden`, `too-large` …), `errors`
 * the field errors of an `invalid-request`.
 */
export class AdminRequestFailed extends MandateError {
  declare readonly code: 'ERR_ADMIN_REQUEST_FAILED';
  readonly status: number;
  readonly problem: string | undefined;
  readonly detail: string | undefined;
  readonly errors: { path: string; message: string }[] | undefined;
  constructor(message: string, init: { status: number; problem?: string; detail?: string; errors?: { path: string; message: string }[]; cause?: unknown }) {
    super('ERR_ADMIN_REQUEST_FAILED', message, { cause: init.cause });
    this.status = init.status;
    this.problem = init.problem;
    this.detail = init.detail;
    this.errors = init.errors;
  }
}

/** An approval webhook delivery whose signature, time or body does not hold (`verifyApprovalWebhook`). */
export class ApprovalWebhookInvalid extends MandateError {
  declare readonly code: 'ERR_APPROVAL_WEBHOOK_INVALID';
  constructor(reason: string) {
    super('ERR_APPROVAL_WEBHOOK_INVALID', `approval webhook refused: ${reason}`);
  }
}
