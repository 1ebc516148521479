/**
 * Converts a JWS ECDSA signature (RFC 7518 §3.4: R ‖ S, each left-padded to the curve's size) to the DER
 * `SEQUENCE { INTEGER r, INTEGER s }` that `crypto.verify` takes by default.
 *
 * Why by hand: node's `dsaEncoding: 'ieee-p1363'` option does the same in C++ but measured about 1.5–2× slower per
 * verify on Node 24 (bench/verify.ts prints both). The conversion is a few byte copies.
 *
 * Returns undefined when the input is not exactly `2 * size` bytes, so a wrong-length signature fails verification.
 */
export function joseToDer(signature: Uint8Array, size: number): Buffer | undefined {
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
