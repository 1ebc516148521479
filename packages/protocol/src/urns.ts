/** The IANA-registered `urn:ietf:params:oauth:*` identifiers Mandate sends or accepts. */

/** RFC 8693 §3: an OAuth 2.0 access token (the default `subject_token_type`, `actor_token_type`, `issued_token_type`). */
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
/** RFC 8693 §3: a JWT; Mandate takes its own access tokens under this type too. */
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
/** RFC 8693 §3: an OpenID Connect ID token. */
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

/** RFC 8693 §2.1: the token exchange grant type. */
export const GRANT_TYPE_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** OpenID CIBA Core 1.0 §10.1: the token request grant type of client-initiated backchannel authentication. */
export const GRANT_TYPE_CIBA = 'urn:openid:params:grant-type:ciba';

/** RFC 7523 §2.2: a JWT used for client authentication (`private_key_jwt`). */
export const CLIENT_ASSERTION_TYPE_JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** RFC 8628 §3.4: the device authorization grant's token request grant type. */
export const GRANT_TYPE_DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
