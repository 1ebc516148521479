import { z } from 'zod';

import { federatedUrl, isLoopbackHost, oneOf, scopeToken, seconds, yesNo } from './option-types.ts';

// The shape of one entry of a list option: an upstream provider, a trusted issuer, an identity-chaining peer.

export const upstreamProvider = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1–40 lower-case letters, digits and dashes'),
    name: z.string().min(1).max(100),
    /** https, or http on a loopback host (tests and local development), without query or fragment. */
    issuer: z.string().refine((value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) && !url.search && !url.hash;
    }, 'must be an https URL (http only on a loopback host) without query or fragment'),
    clientId: z.string().min(1),
    /** Absent: a public client, protected by PKCE alone. */
    clientSecret: z.string().min(1).optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope token (RFC 6749 §3.3)')).default(() => ['openid', 'email', 'profile']),
    /** Link to an existing account whose email the provider reports verified; off, since it trusts the provider with every local account. */
    linkByVerifiedEmail: yesNo().default(false),
    /** Create an account on a first login. */
    provision: yesNo().default(true),
  })
  .refine((p) => p.scopes.includes('openid'), { message: 'must include openid', path: ['scopes'] });

/**
 * An issuer whose JWTs the `jwt-bearer` grant accepts (RFC 7523 §3, identity chaining, ID-JAG): its keys (inline
 * `jwks`, or `jwksUri`, fetched through the SSRF-checked fetch), which assertions (`id-jag`: `typ:
 * oauth-id-jag+jwt`; `jwt`: any other JWT authorization grant), how its `sub` becomes ours, and what it may open.
 */
export const trustedIssuer = z
  .strictObject({
    /** The `iss` of its assertions, compared as a string. */
    issuer: z.string().min(1).max(2000),
    /** Its public keys, inline (`{ keys: [...] }`). Exactly one of `jwks` and `jwksUri`. */
    jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) }).optional(),
    /** Where its keys are published; fetched on first use, kept `crossDomain.jwksCacheSeconds`, fetched again on an unknown `kid`. */
    jwksUri: federatedUrl('').optional(),
    /** Which assertions of it are accepted. Default both. */
    assertions: z.array(oneOf(['id-jag', 'jwt'])).min(1).default(() => ['id-jag' as const, 'jwt' as const]),
    /**
     * How the assertion's subject becomes the token's `sub`: `email` (default: the local user whose e-mail is the
     * assertion's `email` claim), `linked` (the local user linked to this issuer's `sub`, as by an upstream login),
     * or `sub` (the issuer's `sub` as it is: for workloads, or an issuer whose subject names you own).
     */
    subject: oneOf(['email', 'linked', 'sub']).default('email'),
    /** Only these `sub` values are accepted. Default: any. */
    subjects: z.array(z.string().min(1).max(1000)).min(1).max(1000).optional(),
    /** Only these local clients may present its assertions (a public client only if listed). Default: any confidential client allowed the grant. */
    clients: z.array(z.string().min(1).max(1000)).min(1).max(1000).optional(),
    /** The most its assertions may open: tokens carry only these scopes. Default: what the client may hold. */
    scopes: z.array(scopeToken).max(200).optional(),
    /** Longest assertion lifetime (exp − iat, or exp − now) accepted. Default `crossDomain.assertionMaxTtlSeconds`. */
    maxAssertionLifetimeSeconds: seconds(30, 86_400).optional(),
  })
  .refine((entry) => (entry.jwks === undefined) !== (entry.jwksUri === undefined), { message: 'must have exactly one of jwks and jwksUri', path: ['jwks'] });

/** A peer authorization server this one issues JWT authorization grants and ID-JAGs for (identity chaining). */
export const chainingPeer = z.strictObject({
  /** The peer's issuer: the grant's `aud`, and what `audience` (or `resource`) must name. */
  issuer: federatedUrl(''),
  /** Local client id → the client's id at the peer, for the ID-JAG's `client_id`. Default: the same id. */
  clients: z.record(z.string().min(1), z.string().min(1).max(1000)).default(() => ({})),
  /** The most a grant for this peer may carry. Default: what was asked (an ID-JAG) or the subject token's (a JWT grant). */
  scopes: z.array(scopeToken).max(200).optional(),
});
