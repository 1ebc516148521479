/**
 * RFC 9457 problem details, the error format of the admin API. `type` is a stable URN per kind of problem;
 * `detail` is safe to show to the caller.
 */
export type ProblemType = 'unauthorized' | 'forbidden' | 'not-found' | 'invalid-request' | 'conflict' | 'method-not-allowed' | 'too-large' | 'headers-too-large' | 'request-timeout' | 'unavailable' | 'server-error';

const titles: Record<ProblemType, [number, string]> = {
  unauthorized: [401, 'Authentication required'],
  forbidden: [403, 'Forbidden'],
  'not-found': [404, 'Not found'],
  'invalid-request': [400, 'Invalid request'],
  conflict: [409, 'Conflict'],
  'method-not-allowed': [405, 'Method not allowed'],
  'too-large': [413, 'Request body too large'],
  'headers-too-large': [431, 'Request header fields too large'],
  'request-timeout': [408, 'Request timeout'],
  unavailable: [503, 'Service unavailable'],
  'server-error': [500, 'Internal server error'],
};

export class Problem extends Error {
  override readonly name = 'Problem';
  readonly type: ProblemType;
  readonly status: number;
  readonly title: string;
  /** Field-level errors for invalid-request problems. */
  readonly errors: { path: string; message: string }[] | undefined;

  constructor(type: ProblemType, detail: string, errors?: { path: string; message: string }[]) {
    super(detail);
    this.type = type;
    [this.status, this.title] = titles[type];
    this.errors = errors;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: `urn:mandate:problem:${this.type}`,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}
