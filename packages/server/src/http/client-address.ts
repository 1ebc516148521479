import type { MandateConfig } from '../config.ts';

/**
 * Fastify's `trustProxy` for the configured proxies, so that `request.ip` is the right-most address of the
 * `X-Forwarded-For` chain that is not a trusted proxy (proxy-addr walks the chain from the socket's address
 * towards the client while the address it reaches is trusted). Every per-address decision reads `request.ip`.
 * - a list of addresses or CIDRs: passed as it is (proxy-addr compiles it);
 * - a hop count n: the socket's peer and the n − 1 entries before it are proxies (Fastify's own number option
 *   ignores X-Forwarded-For altogether, so it is given as a function);
 * - false: the socket's address, X-Forwarded-For ignored.
 */
export function trustProxyOption(setting: MandateConfig['http']['trustProxy']): false | string[] | ((address: string, hop: number) => boolean) {
  if (setting === false) return false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return [...setting];
}
