/** A refused management operation; the admin API turns it into problem+json, the CLI into a message and exit code. */
export type ManagementErrorKind = 'not-found' | 'invalid-request' | 'conflict' | 'forbidden';

export class ManagementError extends Error {
  override readonly name = 'ManagementError';
  readonly kind: ManagementErrorKind;
  readonly errors: { path: string; message: string }[] | undefined;

  constructor(kind: ManagementErrorKind, message: string, errors?: { path: string; message: string }[]) {
    super(message);
    this.kind = kind;
    this.errors = errors;
  }
}
