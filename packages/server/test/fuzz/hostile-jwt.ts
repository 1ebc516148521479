import { createHmac, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';

/**
 * Compact JWTs built to break parsers rather than to pass: bad base64url, huge or deeply nested headers, `crit`,
 * `kid` injection, `alg` confusion (`none`, HS256 keyed with the public key), duplicate JSON keys, NUL and control
 * bytes. The header and payload are written as raw JSON text so that duplicates and nesting reach the parser as sent;
 * whatever is signed is signed correctly with the real key, so a refusal must come from the check meant to refuse it.
 */

export interface JwtKey {
  privateKey: KeyObject;
  /** The public JWK as the verifier knows it (used as an HMAC secret for the `alg` confusion attack). */
  publicJwk: Record<string, unknown>;
  kid: string;
}

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

function es256(key: KeyObject, input: string): string {
  return b64(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }));
}

/** Text a parser should refuse or treat as plain data: NUL, controls, lone surrogates, look-alikes, huge. */
export const hostileText = fc.constantFrom(
  '\u0000', 'a\u0000b', '\u0007\u001b[2J', '\r\n', '\ud800', '\udfff', '\u202e', '\u200b', '\ufeff', 'ﬁles:read', 'ｃａｌｃ', 'Ⅽalc', 'calc\u0301',
  '../../../../etc/passwd', "' OR '1'='1", '"; DROP TABLE clients; --', '${jndi:ldap://x}', '%00', '%ED%A0%80', 'x'.repeat(9000), '',
);

const kidValue = fc.oneof(hostileText, fc.constantFrom<unknown>(0, -1, 1e308, null, true, [], {}, ['k1'], { $ne: null }), fc.string({ maxLength: 20 }));

/** Header members an attacker controls: each combined with the otherwise valid header. */
const headerOverride: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ kid: kidValue }),
  fc.constantFrom<unknown>(['exp'], ['b64'], [], 'exp', [1], ['x'.repeat(200)], ['alg']).map((crit) => ({ crit, b64: false })),
  fc.record({ alg: fc.constantFrom<unknown>('ES256 ', 'es256', 'RS256', 'PS256', 'EdDSA', 'ES512', '', 7, null, ['ES256']) }),
  fc.record({ typ: fc.oneof(hostileText, fc.constantFrom<unknown>('JWT', 'at+jwt', 'dpop+jwt', 'application/at+jwt', 'DPOP+JWT', 5)) }),
  fc.constantFrom(
    { jku: 'http://127.0.0.1:1/jwks.json' },
    { x5u: 'http://169.254.169.254/latest/meta-data' },
    { x5c: ['AAAA'] },
    { jwk: { kty: 'oct', k: 'AAAA' } },
    { jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } },
    { zip: 'DEF' },
    { enc: 'A256GCM' },
    JSON.parse('{"__proto__":{"alg":"none"}}') as Record<string, unknown>,
    { constructor: { prototype: { admin: true } } },
  ),
);

/** A JSON object written as text, with a duplicate key, a deep nest, a huge member or a non-object at will. */
function rawJson(value: Record<string, unknown>): fc.Arbitrary<string> {
  const json = JSON.stringify(value);
  const body = json.slice(1, -1);
  const firstKey = Object.keys(value)[0] ?? 'x';
  return fc.oneof(
    { arbitrary: fc.constant(json) as fc.Arbitrary<string>, weight: 4 },
    fc.constantFrom(
      `{${body},"${firstKey}":"duplicate"}`,
      `{"${firstKey}":"duplicate",${body}}`,
      `{${body},"nest":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{${body},"nest":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
      `{${body},"big":"${'A'.repeat(300_000)}"}`,
      `\ufeff${json}`,
      `${json}\u0000`,
      `${json} trailing`,
      'null', '[]', '"text"', '1e999', '{', '', `{${body},}`, `{'${firstKey}':1}`,
    ),
  );
}

/** Ways to spoil the compact serialization itself. */
const encodingDamage = fc.constantFrom<(jwt: string) => string>(
  (jwt) => jwt,
  (jwt) => `${jwt}=`,
  (jwt) => jwt.replace(/-/g, '+').replace(/_/g, '/'),
  (jwt) => jwt.replace('.', '=.'),
  (jwt) => `${jwt}.extra`,
  (jwt) => jwt.split('.').slice(0, 2).join('.'),
  (jwt) => jwt.split('.').slice(0, 2).join('.') + '.',
  (jwt) => `.${jwt}`,
  (jwt) => jwt.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
  (jwt) => jwt.slice(0, -1),
  (jwt) => `${jwt.slice(0, 10)} ${jwt.slice(10)}`,
  (jwt) => `${jwt.slice(0, 10)}é${jwt.slice(10)}`,
  (jwt) => `${jwt.slice(0, 10)}\u0000${jwt.slice(10)}`,
  (jwt) => jwt.replace(/\.[^.]*$/, `.${'A'.repeat(5)}`),
);

/**
 * Hostile variants of one token. `claims` makes the valid header and payload (fresh `jti`, the current time) for each
 * input; most inputs change one thing, so each check is reached with everything else valid.
 */
export function hostileJwt(key: JwtKey, claims: () => { header: Record<string, unknown>; payload: Record<string, unknown> }): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat(9), headerOverride, encodingDamage, fc.nat(1_000_000))
    .chain(([kind, override, damage, salt]) => {
      const { header, payload } = claims();
      payload['jti'] = `${String(payload['jti'] ?? 'j')}-${salt}`;
      const signed = (h: string, p: string) => `${b64(h)}.${b64(p)}.${es256(key.privateKey, `${b64(h)}.${b64(p)}`)}`;
      switch (kind) {
        case 0:
          return fc.constant(signed(JSON.stringify(header), JSON.stringify(payload)));
        case 1: // alg none: no signature at all
          return fc.constant(`${b64(JSON.stringify({ ...header, alg: 'none' }))}.${b64(JSON.stringify(payload))}.`);
        case 2: {
          // HS256 keyed with the verifier's own public key, in the forms a confused verifier might use as the secret.
          const h = b64(JSON.stringify({ ...header, alg: 'HS256' }));
          const p = b64(JSON.stringify(payload));
          return fc.constantFrom(JSON.stringify(key.publicJwk), String(key.publicJwk['x']), key.privateKey.asymmetricKeyType ?? '').map((secret) => `${h}.${p}.${b64(createHmac('sha256', secret).update(`${h}.${p}`).digest())}`);
        }
        case 3:
        case 4:
          return fc.constant(signed(JSON.stringify({ ...header, ...override }), JSON.stringify(payload)));
        case 5:
          return rawJson(header).map((h) => signed(h, JSON.stringify(payload)));
        case 6:
          return rawJson(payload).map((p) => signed(JSON.stringify(header), p));
        case 7:
          return fc.constant(damage(signed(JSON.stringify(header), JSON.stringify(payload))));
        case 8: // claims carrying hostile text in every string member
          return hostileText.map((bad) => signed(JSON.stringify(header), JSON.stringify(Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, typeof v === 'string' ? `${v}${bad}` : v])))));
        default:
          return fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('a.b.c', '..', '...', 'e30.e30.', 'eyJ.eyJ.x'));
      }
    });
}
