/**
 * ECDSA signatures come out of OpenSSL as DER (SEQUENCE { INTEGER r, INTEGER s }); JWS wants r‖s, each left-padded
 * to the curve size (RFC 7518 §3.4). Converting in JS costs well under a microsecond, while node's
 * `dsaEncoding: 'ieee-p1363'` option was measured at twice the cost of the signature itself (perf-ceiling.md).
 */

/** DER → r‖s with each half `size` bytes (32 for P-256). */
export function derToJoseSignature(der: Buffer, size: number): Buffer {
  // SEQUENCE tag, length (short form: P-256 signatures are ≤ 72 bytes), then two INTEGERs.
  let offset = 2;
  if (der[0] !== 0x30 || der.length < 8) throw new TypeError('not a DER ECDSA signature');
  if (der[1]! & 0x80) offset += der[1]! & 0x7f;
  const out = Buffer.alloc(size * 2);
  for (let half = 0; half < 2; half++) {
    if (der[offset] !== 0x02) throw new TypeError('not a DER ECDSA signature');
    const length = der[offset + 1]!;
    let start = offset + 2;
    let bytes = length;
    // Strip the sign-padding zero bytes, then right-align into the fixed-size half.
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

/** r‖s → DER, the inverse, for `crypto.verify` without the slow p1363 path. Returns null for a wrong length. */
export function joseToDerSignature(raw: Uint8Array, size: number): Buffer | null {
  if (raw.length !== size * 2) return null;
  const integer = (bytes: Uint8Array): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const body = bytes.subarray(start);
    const pad = body[0]! & 0x80 ? 1 : 0;
    const out = Buffer.alloc(2 + pad + body.length);
    out[0] = 0x02;
    out[1] = pad + body.length;
    out.set(body, 2 + pad);
    return out;
  };
  const r = integer(raw.subarray(0, size));
  const s = integer(raw.subarray(size));
  const length = r.length + s.length;
  const header = length < 0x80 ? Buffer.from([0x30, length]) : Buffer.from([0x30, 0x81, length]);
  return Buffer.concat([header, r, s]);
}
