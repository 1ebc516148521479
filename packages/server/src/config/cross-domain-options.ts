import { z } from 'zod';

import { chainingPeer, trustedIssuer } from './list-entries.ts';
import { group, seconds, yesNo } from './option-types.ts';

export const crossDomainOptions = {
  /**
   * Cross-domain trust (docs/cross-domain.md): identity chaining (draft-ietf-oauth-identity-chaining), ID-JAG
   * (draft-ietf-oauth-identity-assertion-authz-grant) and the RFC 7523 `jwt-bearer` grant. Configuration rather
   * than admin records: a trust anchor is part of the deployment, reviewed with it and the same on every instance.
   */
  crossDomain: group({
    /** Issuers whose assertions the `jwt-bearer` grant accepts; the grant is offered only when one is listed. Default none. Env MANDATE_TRUSTED_ISSUERS (a JSON array). */
    trustedIssuers: z
      .array(trustedIssuer)
      .max(50)
      .refine((list) => new Set(list.map((entry) => entry.issuer)).size === list.length, 'must list each issuer once')
      .default(() => []),
    /** Peer authorization servers a token exchange may issue a JWT authorization grant or an ID-JAG for. Default none. Env MANDATE_IDENTITY_CHAINING_PEERS (a JSON array). */
    peers: z
      .array(chainingPeer)
      .max(50)
      .refine((list) => new Set(list.map((entry) => entry.issuer)).size === list.length, 'must list each issuer once')
      .default(() => []),
    /** Longest lifetime of an assertion presented to the `jwt-bearer` grant (exp − iat). Default 600: grants are short-lived and single-use. */
    assertionMaxTtlSeconds: seconds(30, 86_400).default(600),
    /** Lifetime of the JWT authorization grants and ID-JAGs this server issues. Default 300: enough to reach the peer, short if it leaks. */
    grantTtlSeconds: seconds(10, 3600).default(300),
    /** How long a trusted issuer's `jwksUri` keys are kept before they are fetched again. Default 300. */
    jwksCacheSeconds: seconds(0, 86_400).default(300),
    /**
     * How old a trusted issuer's `jwksUri` keys may be (since they were last fetched) and still verify assertions
     * while fetching them again fails. Default 3600: an hour's outage at the issuer does not stop sign-ins, and a
     * key the issuer withdrew is not honoured beyond that by blocking our fetch. Env MANDATE_TRUSTED_ISSUERS_JWKS_MAX_STALE.
     */
    jwksMaxStaleSeconds: seconds(0, 604_800).default(3600),
    /** Development only: fetch an `http://localhost` `jwksUri` from loopback. Default false. Env MANDATE_TRUSTED_ISSUERS_ALLOW_HTTP_LOCALHOST. */
    allowHttpLocalhost: yesNo().default(false),
  }),
};
