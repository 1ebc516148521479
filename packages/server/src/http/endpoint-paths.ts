/** Paths of the endpoints below the issuer (the issuer may itself have a path, e.g. `https://id.example/tenant1`). */
export const endpointPaths = {
  token: '/token',
  introspection: '/introspect',
  revocation: '/revoke',
  jwks: '/jwks.json',
  registration: '/register',
  /** OpenID CIBA Core 1.0 §7: the backchannel authentication endpoint. */
  backchannelAuthentication: '/bc-authorize',
  /** A waiting agent's Server-Sent Events stream of its own approval request (issue 12 item 5). */
  approvalEvents: '/approval-events',
  /** RFC 8628 §3.1: the device authorization endpoint. */
  deviceAuthorization: '/device_authorization',
  /** RFC 9126 §2: the pushed authorization request endpoint. */
  pushedAuthorization: '/par',
} as const;

/** Paths of the user-facing endpoints (kept apart from `endpointPaths`, which are also client-assertion audiences). */
export const userEndpointPaths = {
  authorization: '/authorize',
  consent: '/authorize/consent',
  /** The page a consented request waits on while approvers decide (issue 12 item 2). */
  authorizationApproval: '/authorize/approval',
  userinfo: '/userinfo',
  login: '/login',
  logout: '/logout',
  account: '/account',
  /** RFC 8628 §3.3: the verification page (`verification_uri`) and its decision form. */
  device: '/device',
  deviceDecision: '/device/decision',
} as const;

/** Absolute URL of an endpoint under the issuer. */
export function endpointUrl(issuer: string, path: string): string {
  return `${issuer}${path}`;
}
