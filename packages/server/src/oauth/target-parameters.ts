import type { FormParams } from './form-params.ts';
import { invalidScope, invalidTarget } from './oauth-error.ts';
import { canonicalResourceUri } from './resource-uri.ts';

/**
 * A space-delimited scope string (RFC 6749 §3.3) as a set, preserving order; rejects characters outside NQCHAR.
 * An empty `scope` is no scope (undefined): clients that build the parameter from an empty list send one.
 */
export function parseScope(scope: string | undefined): string[] | undefined {
  const scopes = (scope ?? '').split(' ').filter(Boolean);
  if (scopes.length === 0) return undefined;
  for (const s of scopes) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)) throw invalidScope('scope contains a character outside RFC 6749 §3.3 (NQCHAR)');
  }
  return [...new Set(scopes)];
}

/** Canonical URIs of the `resource` parameters (RFC 8707 §2), without repeats; a malformed one is `invalid_target`. */
export function parseResourceParameters(params: Pick<FormParams, 'getAll'>): string[] {
  const out: string[] = [];
  for (const value of params.getAll('resource')) {
    const uri = canonicalResourceUri(value);
    if (!uri) throw invalidTarget('resource must be an absolute http(s) URI without a fragment');
    if (!out.includes(uri)) out.push(uri);
  }
  return out;
}
