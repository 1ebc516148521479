import type { DelegatedTokenSet } from '../../agent/token-store.ts';
import type { AuthorizationServerMetadata } from '../../discovery/authorization-server-metadata.ts';
import type { ResourceMetadataDocument } from '../../discovery/protected-resource-metadata.ts';
import { AuthorizationLimit } from '../../errors.ts';

const OFFLINE_ACCESS = 'offline_access';

/**
 * The scopes of an authorization request: those asked for ∪ those held (MCP 2026-07-28 step-up, SEP-2350:
 * re-authorizing never drops what was granted), and `offline_access` when the AS lists it and it is wanted (MCP
 * 2026-07-28, SEP-2207); never `offline_access` otherwise.
 */
export function scopesToRequest(asked: string | null, held: DelegatedTokenSet | undefined, metadata: AuthorizationServerMetadata, offlineAccess: boolean): string[] {
  const scopes = new Set([...(asked ?? '').split(' '), ...(held?.scope ?? [])].filter((s) => s !== '' && s !== OFFLINE_ACCESS));
  if (offlineAccess && metadata.scopes_supported?.includes(OFFLINE_ACCESS)) scopes.add(OFFLINE_ACCESS);
  return [...scopes];
}

/** The scopes a registration declares: the resource's, with `offline_access` when the AS lists it and it is wanted. */
export function registrationScopes(resource: Pick<ResourceMetadataDocument, 'scopes_supported'>, metadata: AuthorizationServerMetadata, offlineAccess: boolean): string[] {
  const scopes = new Set(resource.scopes_supported ?? []);
  if (scopes.size > 0 && offlineAccess && metadata.scopes_supported?.includes(OFFLINE_ACCESS)) scopes.add(OFFLINE_ACCESS);
  return [...scopes];
}

/**
 * MCP "Step-Up Authorization Flow": retry limits per scope set. A set asked for again means the last
 * authorization for it did not satisfy the server (or was never completed); the count restarts when the tokens
 * held had expired (they worked for their lifetime), and on {@link reset}.
 */
export class AuthorizationAttempts {
  readonly #counts = new Map<string, number>();
  readonly #max: number;
  readonly #clock: () => number;

  constructor(max: number, clock: () => number) {
    this.#max = max;
    this.#clock = clock;
  }

  /** Counts one more authorization for `scope`; `ERR_AUTHORIZATION_LIMIT` past the limit. */
  count(scope: readonly string[], held: DelegatedTokenSet | undefined): void {
    if (held?.expiresAt !== undefined && held.expiresAt * 1000 <= this.#clock()) this.#counts.clear();
    const key = [...scope].sort().join(' ');
    const attempts = (this.#counts.get(key) ?? 0) + 1;
    if (attempts > this.#max) throw new AuthorizationLimit(attempts - 1);
    this.#counts.set(key, attempts);
  }

  reset(): void {
    this.#counts.clear();
  }
}
