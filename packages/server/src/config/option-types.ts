import { isIP } from 'node:net';
import { z } from 'zod';

// The value types the options are written in: each refuses with what it must be
// (`must be a whole number of seconds between 60 and 86400`), and resolveConfig prefixes the option's path.

export const wholeNumber = (min: number, max: number, unit?: string) => {
  const expected = `must be a whole number${unit ? ` of ${unit}` : ''} between ${min} and ${max}`;
  return z.number({ error: expected }).int({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
};
export const seconds = (min: number, max: number) => wholeNumber(min, max, 'seconds');
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
export const yesNo = () => z.boolean({ error: 'must be true or false' });
/** A group of options; absent means all its defaults. */
export const group = <S extends z.ZodRawShape>(shape: S) => {
  const options = z.strictObject(shape);
  return options.prefault({} as z.input<typeof options>);
};
export const isLoopbackHost = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

export const issuerUrl = z.string({ error: 'must be a URL' }).refine((value) => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash && !value.endsWith('/');
}, 'must be an http(s) URL without query, fragment or trailing slash');

/** https, or http on a loopback host (tests and local development), without query or fragment. */
export const federatedUrl = (what: string) =>
  z.string().max(2000).refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) && !url.search && !url.hash;
  }, `must be an https URL (http only on a loopback host) without query or fragment${what}`);
export const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope token (RFC 6749 §3.3)');

/** A trusted proxy: an IP address, an address/prefix CIDR, or one of proxy-addr's named ranges. */
export const trustedProxy = z.string().refine((value) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
  const [address, prefix, extra] = value.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}, 'must be an IP address, a CIDR (address/prefix), loopback, linklocal or uniquelocal');
