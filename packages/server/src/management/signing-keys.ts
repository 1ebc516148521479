import type { KeyRing } from '../keys/key-ring.ts';
import type { ManagementDeps } from './management-deps.ts';

/** How long a retired key stays published: the longest token lifetime plus the allowed clock skew. */
function keyOverlapSeconds(config: ManagementDeps['config']): number {
  return config.tokens.maxAccessTokenTtlSeconds + config.tokens.clockSkewSeconds;
}

/** Makes a new signing key active (the old one stays published for `keyOverlapSeconds`) and audits it. */
export async function rotateSigningKey(ring: Pick<KeyRing, 'rotate'>, deps: Pick<ManagementDeps, 'audit' | 'config' | 'actor'>) {
  const rotated = await ring.rotate(deps.config.keys.algorithm, keyOverlapSeconds(deps.config));
  await deps.audit.record({ event: 'key.rotated', actor: deps.actor, detail: { kid: rotated.kid, retired_kid: rotated.retiredKid } });
  return rotated;
}
