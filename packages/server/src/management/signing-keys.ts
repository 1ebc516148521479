import { z } from 'zod';
import { type KeyRing, RotationPendingError } from '../keys/key-ring.ts';
import { parseInput } from './input.ts';
import { ManagementError } from './management-error.ts';
import type { ManagementDeps } from './management-deps.ts';

/** How long a retired key stays published after it stops signing: the longest token lifetime plus the allowed clock skew. */
function keyOverlapSeconds(config: ManagementDeps['config']): number {
  return config.tokens.maxAccessTokenTtlSeconds + config.tokens.clockSkewSeconds;
}

const publishAheadSchema = z.object({ publish_ahead_seconds: z.coerce.number().int().min(0).max(604_800) }).strict();

/**
 * Rotates the signing key and audits it (CLI `mandate keys rotate`, `POST /admin/v1/keys/rotate`). The new key is
 * published at once and signs `publishAheadSeconds` later (else `keys.publishAheadSeconds`; 0 = at once, for a
 * compromised key); the old one signs until then and stays published for `keyOverlapSeconds` after. A rotation
 * while the previous one is still ahead is a conflict.
 */
export async function rotateSigningKey(ring: Pick<KeyRing, 'rotate'>, deps: Pick<ManagementDeps, 'audit' | 'config' | 'actor'>, options: { publishAheadSeconds?: unknown } = {}) {
  const ahead =
    options.publishAheadSeconds === undefined ? deps.config.keys.publishAheadSeconds : parseInput(publishAheadSchema, { publish_ahead_seconds: options.publishAheadSeconds }).publish_ahead_seconds;
  let rotated;
  try {
    rotated = await ring.rotate(deps.config.keys.algorithm, keyOverlapSeconds(deps.config), ahead);
  } catch (err) {
    if (err instanceof RotationPendingError) throw new ManagementError('conflict', err.message);
    throw err;
  }
  await deps.audit.record({ event: 'key.rotated', actor: deps.actor, detail: { kid: rotated.kid, retired_kid: rotated.retiredKid, activates_at: rotated.activatesAt } });
  return rotated;
}
