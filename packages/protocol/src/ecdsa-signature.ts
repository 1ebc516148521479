/**
 * ECDSA signatures in two encodings: OpenSSL (and so `crypto.sign`/`crypto.verify` by default) speaks DER,
 * `SEQUENCE { INTEGER r, INTEGER s }`; JWS speaks R ‖ S, each left-padded to the curve's size (RFC 7518 §3.4).
 *
 * Why by hand: node's `dsaEncoding: 'ieee-p1363'` option does the same conversion in C++ but was measured at about
 * twice the cost of the ES256 signature itself (57 µs vs 115 µs per signature; perf-ceiling.md), and 1.5–2× slower
 * per verify (bench/verify.ts prints both). The conversion is a few byte copies.
 */

/**
 * DER → R ‖ S with each half `size` bytes (32 for P-256, 48 for P-384, 66 for P-521). The input is what OpenSSL
 * just produced, so a malformed one is a programming error: it throws a TypeError.
 */
export function ecdsaDerToJose(der: Buffer, size: number): Buffer {
  if (der.length < 8 || der[0] !== 0x30) throw new TypeError('not a DER ECDSA signature');
  // SEQUENCE length: short form, or long form (0x81 nn) once the body passes 127 bytes (P-521).
  let offset = 2;
  if ((der[1] as number) & 0x80) offset += (der[1] as number) & 0x7f;
  const out = Buffer.alloc(size * 2);
  for (let half = 0; half < 2; half++) {
    if (der[offset] !== 0x02) throw new TypeError('not a DER ECDSA signature');
    const length = der[offset + 1] as number;
    if (offset + 2 + length > der.length) throw new TypeError('not a DER ECDSA signature');
    let start = offset + 2;
    let bytes = length;
    // Drop the zero byte DER adds before an integer whose top bit is set, then right-align into the half.
    while (bytes > size && der[start] === 0) {
      start++;
      bytes--;
    }
    if (bytes > size) throw new TypeError('ECDSA integer longer than the curve size');
    der.copy(out, half * size + (size - bytes), start, start + bytes);
    offset += 2 + length;
  }
  return out;
}

/**
 * R ‖ S → DER, for `crypto.verify` without the slow p1363 path. The input is untrusted (a token's signature):
 * anything but exactly `2 * size` bytes returns undefined, so that verification fails instead of throwing.
 */
export function ecdsaJoseToDer(signature: Uint8Array, size: number): Buffer | undefined {
  if (signature.length !== 2 * size) return undefined;
  const r = integerBounds(signature, 0, size);
  const s = integerBounds(signature, size, 2 * size);
  const rLength = r.end - r.start + r.pad;
  const sLength = s.end - s.start + s.pad;
  const bodyLength = 2 + rLength + 2 + sLength;
  // P-521 signatures exceed 127 bytes of body and need DER's long length form (one extra byte, 0x81).
  const header = bodyLength > 127 ? 3 : 2;
  const der = Buffer.allocUnsafe(header + bodyLength);
  der[0] = 0x30;
  if (header === 3) {
    der[1] = 0x81;
    der[2] = bodyLength;
  } else {
    der[1] = bodyLength;
  }
  const at = writeInteger(der, header, signature, r, rLength);
  writeInteger(der, at, signature, s, sLength);
  return der;
}

interface IntegerBounds {
  start: number;
  end: number;
  pad: number;
}

/** DER INTEGERs are minimal (leading zero bytes dropped) and positive (a 0x00 is prepended when the top bit is set). */
function integerBounds(bytes: Uint8Array, start: number, end: number): IntegerBounds {
  let i = start;
  while (i < end - 1 && bytes[i] === 0) i++;
  return { start: i, end, pad: (bytes[i] as number) & 0x80 ? 1 : 0 };
}

function writeInteger(der: Buffer, at: number, source: Uint8Array, bounds: IntegerBounds, length: number): number {
  der[at] = 0x02;
  der[at + 1] = length;
  let offset = at + 2;
  if (bounds.pad) der[offset++] = 0;
  der.set(source.subarray(bounds.start, bounds.end), offset);
  return offset + bounds.end - bounds.start;
}
