/** Errors of discovery: authorization server metadata (RFC 8414) and protected resource metadata (RFC 9728). */

import { MandateError } from './base.ts';

/** The authorization server metadata (RFC 8414) could not be fetched or parsed. */
export class MetadataFetchFailed extends MandateError {
  declare readonly code: 'ERR_METADATA_FETCH_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_METADATA_FETCH_FAILED', message, options);
  }
}

/** The metadata's `issuer` is not identical to the configured issuer, so it must not be used (RFC 8414 §3.3). */
export class MetadataIssuerMismatch extends MandateError {
  declare readonly code: 'ERR_METADATA_ISSUER_MISMATCH';
  readonly expected: string;
  readonly received: unknown;
  constructor(expected: string, received: unknown) {
    super('ERR_METADATA_ISSUER_MISMATCH', `metadata issuer ${JSON.stringify(received)} is not ${JSON.stringify(expected)}`);
    this.expected = expected;
    this.received = received;
  }
}

/** The metadata lacks a member the operation needs (e.g. `jwks_uri`, `token_endpoint`) or has one of the wrong type. */
export class MetadataInvalid extends MandateError {
  declare readonly code: 'ERR_METADATA_INVALID';
  readonly member: string;
  constructor(member: string) {
    super('ERR_METADATA_INVALID', `metadata member ${JSON.stringify(member)} is missing or invalid`);
    this.member = member;
  }
}

/**
 * Protected resource metadata whose `resource` is not the resource the client asked about (RFC 9728 §3.3: the
 * metadata MUST NOT be used). An attacker's server could otherwise send the client, and its tokens, elsewhere.
 */
export class ResourceMismatch extends MandateError {
  declare readonly code: 'ERR_RESOURCE_MISMATCH';
  readonly expected: readonly string[];
  readonly received: unknown;
  constructor(expected: readonly string[], received: unknown) {
    super('ERR_RESOURCE_MISMATCH', `protected resource metadata names resource ${JSON.stringify(received)}, not ${expected.map((e) => JSON.stringify(e)).join(' or ')}`);
    this.expected = expected;
    this.received = received;
  }
}
