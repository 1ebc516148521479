/** The IANA-registered `urn:ietf:params:oauth:*` identifiers Mandate sends or accepts. */

/** RFC 8693 §3: an OAuth 2.0 access token (the default `subject_token_type`, `actor_token_type`, `issued_token_type`). */
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
/** RFC 8693 §3: a JWT; Mandate takes its own access tokens under this type too. */
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
/** RFC 8693 §3: an OpenID Connect ID token. */
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

/** RFC 7523 §2.1: a JWT used as an authorization grant (identity chaining, ID-JAG, workload identity federation). */
export const GRANT_TYPE_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * draft-parecki-oauth-jwt-dpop-grant: a JWT authorization grant redeemed with a DPoP proof. The ID-JAG draft's
 * example uses it while its normative text says `jwt-bearer`; servers accept both (Mandate: an alias of jwt-bearer
 * that requires the proof).
 */
export const GRANT_TYPE_JWT_DPOP = 'urn:ietf:params:oauth:grant-type:jwt-dpop';

/** draft-ietf-oauth-identity-assertion-authz-grant: an Identity Assertion JWT Authorization Grant (ID-JAG). */
export const TOKEN_TYPE_ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';

/** draft-ietf-oauth-identity-assertion-authz-grant: the `authorization_grant_profiles_supported` value of ID-JAG. */
export const GRANT_PROFILE_ID_JAG = 'urn:ietf:params:oauth:grant-profile:id-jag';

/** draft-ietf-oauth-identity-assertion-authz-grant: the `typ` header of an ID-JAG (explicit typing, RFC 8725 §3.11). */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';

/** RFC 8693 §2.1: the token exchange grant type. */
export const GRANT_TYPE_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** OpenID CIBA Core 1.0 §10.1: the token request grant type of client-initiated backchannel authentication. */
export const GRANT_TYPE_CIBA = 'urn:openid:params:grant-type:ciba';

/** RFC 7523 §2.2: a JWT used for client authentication (`private_key_jwt`). */
export const CLIENT_ASSERTION_TYPE_JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** RFC 8628 §3.4: the device authorization grant's token request grant type. */
export const GRANT_TYPE_DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
