import { domainToASCII } from 'node:url';

/**
 * The one normalisation of e-mail addresses, used wherever an address enters: account creation and lookup (CLI,
 * admin API), password login, and upstream (OpenID) login. Two addresses name the same account only when their
 * normalised forms are equal, so every path must agree on it.
 *
 * 1. Surrounding whitespace is trimmed (Unicode spaces included).
 * 2. Controls, format characters (zero-width space and joiners, soft hyphen, BOM, bidi marks) and inner spaces are
 *    refused: invisible in a page, they make look-alike twins of an address.
 * 3. The address must already be in NFKC form: a compatibility character (the Kelvin sign U+212A, fullwidth
 *    letters, ligatures) is refused rather than folded, because folding would make `\u212Aate@` the same account as
 *    `kate@` while the provider only verified a mailbox of a different name (SR-17).
 * 4. The local part is lower-cased with `toLowerCase()` (never `toUpperCase()`, which maps dotless ı to I), and
 *    must still be NFKC afterwards (İ lower-cases to i + U+0307, a distinct address, never `i`).
 * 5. The domain goes through IDNA (UTS #46, `domainToASCII`) to its ASCII form, so `exаmple.com` with a Cyrillic
 *    а is `xn--exmple-4nf.com`, never `example.com`; it must be a dotted host name of letters, digits and hyphens.
 */
export type EmailNormalization = { ok: true; email: string } | { ok: false; reason: string };

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}]/u;
/** RFC 5322 dot-atom text, widened to letters, marks and digits of any script (RFC 6531). */
const LOCAL_PART = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

export function normalizeEmail(input: string): EmailNormalization {
  if (typeof input !== 'string') return { ok: false, reason: 'must be a string' };
  const trimmed = input.trim();
  if (trimmed === '') return { ok: false, reason: 'must not be empty' };
  if (trimmed.length > 320) return { ok: false, reason: 'must be at most 320 characters' };
  const invisible = INVISIBLE.exec(trimmed);
  if (invisible) return { ok: false, reason: `must not contain invisible or space characters (${codePoint(invisible[0])})` };
  if (trimmed.normalize('NFKC') !== trimmed) {
    const changed = [...trimmed].find((char) => char.normalize('NFKC') !== char) ?? '';
    return { ok: false, reason: `must not contain compatibility characters (${changed ? codePoint(changed) : 'not NFKC'}); write the plain letters` };
  }
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return { ok: false, reason: 'must be local-part@domain' };
  const local = trimmed.slice(0, at).toLowerCase();
  if (local.length > 64 || !LOCAL_PART.test(local)) return { ok: false, reason: 'has a local part that is not a plain address (no quotes, spaces or double dots)' };
  if (local.normalize('NFKC') !== local) return { ok: false, reason: 'has a local part that is not stable under case folding' };
  const domain = domainToASCII(trimmed.slice(at + 1));
  const labels = domain.split('.');
  if (domain === '' || domain.length > 253 || labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) {
    return { ok: false, reason: 'has a domain that is not a valid host name' };
  }
  return { ok: true, email: `${local}@${domain}` };
}
