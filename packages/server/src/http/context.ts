import type { AuditLog } from '../audit/audit-log.ts';
import type { RefusalAudit } from '../audit/refusal-audit.ts';
import type { MandateConfig } from '../config.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Store } from '../store/store.ts';

/** Paths of the endpoints below the issuer (the issuer may itself have a path, e.g. `https://id.example/tenant1`). */
export const endpointPaths = {
  token: '/token',
  introspection: '/introspect',
  revocation: '/revoke',
  jwks: '/jwks.json',
} as const;

/** Paths of the user-facing endpoints (kept apart from `endpointPaths`, which are also client-assertion audiences). */
export const userEndpointPaths = {
  authorization: '/authorize',
  consent: '/authorize/consent',
  userinfo: '/userinfo',
  login: '/login',
  logout: '/logout',
  account: '/account',
} as const;

/** What the HTTP layer is built from; `app.ts` is the only place that assembles it. */
export interface ServerContext {
  readonly config: MandateConfig;
  readonly store: Store;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  /** Audit rows of refused requests, counted rather than written one each (SR-20). */
  readonly refusals: RefusalAudit;
  /** Current time in epoch seconds (injectable for tests). */
  now(): number;
}

/** Absolute URL of an endpoint under the issuer. */
export function endpointUrl(issuer: string, path: string): string {
  return `${issuer}${path}`;
}
