import { z } from 'zod';
import { canonicalResourceUri } from '../oauth/resource-uri.ts';
import { normalizeEmail } from '../users/email-address.ts';
import { ManagementError } from './management-error.ts';

/** Shared zod pieces for management input, from the CLI and the admin API alike. */

export const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'must be a scope token (RFC 6749 §3.3)');

export const resourceUri = z.string().transform((value, ctx) => {
  const uri = canonicalResourceUri(value);
  if (!uri) {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URI without fragment' });
    return z.NEVER;
  }
  return uri;
});

/** An e-mail address in its one normalised form (users/email-address.ts), or the reason it has none. */
export const emailAddress = z.string().transform((value, ctx) => {
  const normalized = normalizeEmail(value);
  if (!normalized.ok) {
    ctx.addIssue({ code: 'custom', message: normalized.reason });
    return z.NEVER;
  }
  return normalized.email;
});

const graceSchema = z.object({ grace_seconds: z.coerce.number().int().min(0).max(2_592_000) }).strict();

/** A rotation's grace period in seconds (0 = the old credential stops at once, at most 30 days), else `fallback`. */
export function graceSeconds(value: unknown, fallback: number): number {
  return value === undefined ? fallback : parseInput(graceSchema, { grace_seconds: value }).grace_seconds;
}

export { jwksInput } from '../oauth/client-jwks.ts';

/** Parses with a schema and turns the first issues into a ManagementError naming each path. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, 20).map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
  throw new ManagementError('invalid-request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}
