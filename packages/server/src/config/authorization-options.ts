import { z } from 'zod';

import { group, seconds, wholeNumber, yesNo } from './option-types.ts';

/** Codes, refresh tokens, ID tokens, pushed requests, the FAPI 2.0 mode, delegation, Txn-Tokens and DPoP. */
export const authorizationOptions = {
  authorization: group({
    /** Authorization-code lifetime. Default 60: OAuth 2.1 §4.1.2 asks for ≤ 10 minutes, and a redirect takes seconds. */
    codeTtlSeconds: seconds(10, 600).default(60),
    /** A refresh token not used for this long expires (each use rotates it and restarts the clock). Default 2592000 (30 days). */
    refreshTokenIdleTtlSeconds: seconds(300, 31_536_000).default(2_592_000),
    /** A refresh-token family (one user grant) ends this long after consent, however it is used. Default 7776000 (90 days). */
    refreshTokenFamilyTtlSeconds: seconds(300, 31_536_000).default(7_776_000),
    /** ID-token lifetime. Default 3600: ID tokens say who logged in; they authorise nothing by themselves. */
    idTokenTtlSeconds: seconds(60, 86_400).default(3600),
    /**
     * Lifetime of a pushed authorization request (RFC 9126 `expires_in`): the `request_uri` must reach the
     * authorization endpoint within it, and is used once. Default 60: a client redirects the browser right after
     * pushing (RFC 9126 §2.2 suggests 5 to 600 seconds). Env MANDATE_PAR_TTL.
     */
    pushedRequestTtlSeconds: seconds(5, 600).default(60),
    /**
     * Every authorization request must be pushed first (RFC 9126 §5 `require_pushed_authorization_requests`): a
     * plain one is refused with `invalid_request`. A client can also be required to alone (its
     * `require_pushed_authorization_requests`). Default false. Env MANDATE_REQUIRE_PAR.
     */
    requirePushedAuthorizationRequests: yesNo().default(false),
  }),
  /**
   * The FAPI 2.0 Security Profile mode (docs/security.md): pushed authorization requests required, PKCE S256,
   * DPoP on every token request (sender-constrained tokens), `private_key_jwt` the only client authentication (no
   * client secrets, no public clients), `redirect_uri` required in the pushed request, codes living at most 60 s,
   * and refresh tokens not rotated (they live as long as their grant). Default false. Env MANDATE_FAPI.
   */
  fapi2SecurityProfile: yesNo().default(false),
  delegation: group({
    /** Deepest `act` nesting a token exchange may produce (user → agent → sub-agent … counts actors). Default 5. */
    maxChainDepth: wholeNumber(1, 20).default(5),
    /**
     * Token exchange without `actor_token` (RFC 8693 impersonation: a token for the subject, no new `act`). Default
     * off: every exchange must name its actor, so the delegation chain always records who acts. Env MANDATE_ALLOW_IMPERSONATION.
     */
    allowImpersonation: yesNo().default(false),
  }),
  transactionTokens: group({
    /**
     * The trust domain of the Transaction Token Service (draft-ietf-oauth-transaction-tokens): the `aud` of every
     * Txn-Token, and the `audience` a Txn-Token request must name. Default: the issuer, the one name every workload
     * of this server already knows. Env MANDATE_TXN_TRUST_DOMAIN.
     */
    trustDomain: z.string().trim().min(1, 'must be a name').max(255).optional(),
    /**
     * Txn-Token lifetime; never beyond the subject token's (or, for a replacement, the replaced token's) expiry.
     * Default 300 (5 min): the draft asks for "minutes or less", since a Txn-Token is a bearer token with no
     * refresh. Env MANDATE_TXN_TOKEN_TTL.
     */
    ttlSeconds: seconds(10, 3600).default(300),
  }),
  dpop: group({
    /**
     * Require a server nonce in every DPoP proof at the token and userinfo endpoints (RFC 9449 §8): a proof without
     * one, or with an old one, gets `use_dpop_nonce` and a `DPoP-Nonce` to retry with. Nonces are derived from the
     * KEK and the time, so every instance sharing the KEK accepts them, with nothing stored. Default false: the
     * proof's `iat` window and the shared `jti` replay check already bound a proof's use, and a nonce costs each
     * client one extra round trip. Env MANDATE_DPOP_NONCE.
     */
    nonceRequired: yesNo().default(false),
    /** How long a nonce is handed out before the next one; one stays accepted for up to twice this. Default 300. */
    noncePeriodSeconds: seconds(10, 86_400).default(300),
    /** Oldest DPoP proof accepted, from its `iat`; its `jti` is remembered this long. Default 300: proofs are made per request. */
    proofMaxAgeSeconds: seconds(10, 3600).default(300),
  }),
};

/** The device authorization grant. */
export const deviceOptions = {
  /** RFC 8628 device authorization grant (issue 13 item 7): headless agents, a person approving on another device. */
  device: group({
    /**
     * Lifetime of a device authorization request (`expires_in`): the person has this long to enter the code and
     * decide. Default 600 (10 min), as RFC 8628's examples: time to pick up a phone and sign in, short enough that a
     * code read over a shoulder is soon worthless. Env MANDATE_DEVICE_CODE_TTL.
     */
    codeTtlSeconds: seconds(60, 3600).default(600),
    /** Minimum seconds between token-endpoint polls (`interval`); each `slow_down` adds 5. Default 5 (RFC 8628 §3.2). Env MANDATE_DEVICE_POLL_INTERVAL. */
    pollIntervalSeconds: seconds(1, 60).default(5),
    /**
     * User codes entered on the verification page per minute per client address, found or not (RFC 8628 §5.1:
     * the short code is safe only if guessing it is slow). In memory, per instance; 0 disables. Default 10.
     */
    userCodeAttemptsPerIpPerMinute: wholeNumber(0, 10_000).default(10),
    /**
     * Wrong user codes per minute from all addresses together, so that guessing from many addresses is slow too;
     * past it, every address waits for the minute to end. In memory, per instance; 0 disables. Default 120.
     */
    userCodeFailuresPerMinute: wholeNumber(0, 1_000_000).default(120),
    /** Device authorization requests per minute per client address (each writes a row). 0 disables. Default 60. */
    requestsPerIpPerMinute: wholeNumber(0, 1_000_000).default(60),
  }),
};
