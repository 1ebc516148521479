/**
 * An `ExternalKeySigner` module as an operator writes one for their KMS (docs/deployment.md): it exports
 * `createKeySigner(options)`. This one speaks to `signer-process.ts` at `options.url`.
 */
import type { SigningAlgorithm } from '@mandate/protocol';
import type { ExternalKeySigner } from '../../../src/keys/external-signer.ts';

export function createKeySigner(options: Record<string, unknown>): ExternalKeySigner {
  const url = options['url'];
  if (typeof url !== 'string') throw new TypeError('options.url is required');
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`the signer answered ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  };
  return {
    async createKey(alg: SigningAlgorithm) {
      const created = await call('/keys', { alg });
      return { keyRef: created['keyRef'] as string, publicJwk: created['publicJwk'] as Record<string, unknown> };
    },
    async sign(keyRef: string, alg: SigningAlgorithm, input: Uint8Array) {
      const signed = await call('/sign', { keyRef, alg, input: Buffer.from(input).toString('base64url') });
      return Buffer.from(signed['signature'] as string, 'base64url');
    },
  };
}
