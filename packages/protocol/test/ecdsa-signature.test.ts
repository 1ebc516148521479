import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ecdsaDerToJose, ecdsaJoseToDer } from '../src/ecdsa-signature.ts';

const hex = (value: string) => Buffer.from(value.replace(/\s/g, ''), 'hex');
const repeat = (byte: number, count: number) => Buffer.alloc(count, byte);

describe('ecdsaJoseToDer (R ‖ S → DER)', () => {
  test('small integers: leading zero bytes are dropped, DER INTEGERs are minimal', () => {
    const raw = Buffer.concat([repeat(0, 31), hex('01'), repeat(0, 30), hex('7f ff')]);
    assert.deepEqual(ecdsaJoseToDer(raw, 32), hex('30 07  02 01 01  02 02 7f ff'));
  });

  test('high bit set: a 0x00 is prepended so the INTEGER stays positive', () => {
    const raw = Buffer.concat([hex('80'), repeat(0x11, 31), hex('ff'), repeat(0x22, 31)]);
    const expected = Buffer.concat([hex('30 46  02 21 00'), raw.subarray(0, 32), hex('02 21 00'), raw.subarray(32)]);
    assert.deepEqual(ecdsaJoseToDer(raw, 32), expected);
  });

  test('a zero half becomes the one-byte INTEGER 0', () => {
    assert.deepEqual(ecdsaJoseToDer(Buffer.alloc(64), 32), hex('30 06  02 01 00  02 01 00'));
  });

  test('leading zeros followed by a high bit: the zeros go, one 0x00 comes back', () => {
    const raw = Buffer.concat([hex('00 00 80'), repeat(1, 29), hex('00 ff'), repeat(2, 30)]);
    const der = ecdsaJoseToDer(raw, 32)!;
    assert.deepEqual(der.subarray(2, 5), hex('02 1f 00'));
    assert.deepEqual(der.subarray(5, 5 + 30), raw.subarray(2, 32));
    assert.deepEqual(der.subarray(35, 38), hex('02 20 00'));
  });

  test('P-521 (66-byte halves) needs the long length form 0x81', () => {
    const der = ecdsaJoseToDer(Buffer.concat([hex('01'), repeat(0xff, 65), hex('01'), repeat(0xee, 65)]), 66)!;
    assert.deepEqual(der.subarray(0, 3), hex('30 81 88'));
    assert.equal(der.length, 3 + 0x88);
  });

  test('a signature of the wrong length is refused with undefined, never thrown', () => {
    for (const length of [0, 1, 63, 65, 96, 128]) assert.equal(ecdsaJoseToDer(Buffer.alloc(length, 1), 32), undefined);
  });
});

describe('ecdsaDerToJose (DER → R ‖ S)', () => {
  test('short integers are right-aligned and left-padded with zeros', () => {
    assert.deepEqual(ecdsaDerToJose(hex('30 07  02 01 01  02 02 7f ff'), 32), Buffer.concat([repeat(0, 31), hex('01'), repeat(0, 30), hex('7f ff')]));
  });

  test('the sign-padding 0x00 of a 33-byte INTEGER is removed', () => {
    const r = Buffer.concat([hex('80'), repeat(0x11, 31)]);
    const s = Buffer.concat([hex('ff'), repeat(0x22, 31)]);
    const der = Buffer.concat([hex('30 46 02 21 00'), r, hex('02 21 00'), s]);
    assert.deepEqual(ecdsaDerToJose(der, 32), Buffer.concat([r, s]));
  });

  test('long-form SEQUENCE length (P-521)', () => {
    const raw = Buffer.concat([hex('01'), repeat(0xff, 65), hex('01'), repeat(0xee, 65)]);
    assert.deepEqual(ecdsaDerToJose(ecdsaJoseToDer(raw, 66)!, 66), raw);
  });

  test('not DER, a truncated INTEGER or one longer than the curve → TypeError', () => {
    assert.throws(() => ecdsaDerToJose(hex('31 06 02 01 01 02 01 01'), 32), TypeError);
    assert.throws(() => ecdsaDerToJose(hex('30 06 03 01 01 02 01 01'), 32), TypeError);
    assert.throws(() => ecdsaDerToJose(hex('30 08 02 01 01 02 05 01'), 32), TypeError);
    assert.throws(() => ecdsaDerToJose(Buffer.concat([hex('30 46 02 21 01'), repeat(1, 32), hex('02 21 00'), repeat(1, 32)]), 32), TypeError);
    assert.throws(() => ecdsaDerToJose(hex('30 00'), 32), TypeError);
  });
});

describe('both directions', () => {
  for (const [curve, size, hash] of [['P-256', 32, 'sha256'], ['P-384', 48, 'sha384'], ['P-521', 66, 'sha512']] as const) {
    test(`${curve}: agrees with node's ieee-p1363 encoding on real signatures`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      for (let i = 0; i < 200; i++) {
        const data = Buffer.from(`message ${i}`);
        const der = sign(hash, data, privateKey);
        const raw = ecdsaDerToJose(der, size);
        assert.equal(raw.length, 2 * size);
        assert.ok(verify(hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw), 'node accepts the converted R ‖ S');
        assert.deepEqual(ecdsaJoseToDer(raw, size), der, 'and the way back is the DER OpenSSL produced');
        const p1363 = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        assert.ok(verify(hash, data, publicKey, ecdsaJoseToDer(p1363, size)!), "node's own R ‖ S converts to DER it accepts");
      }
    });
  }

  test('any 64 bytes survive R ‖ S → DER → R ‖ S unchanged (property)', () => {
    const half = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      // Halves with many leading zeros and high bits, where the encodings differ most.
      fc.tuple(fc.integer({ min: 0, max: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([zeros, bytes]) => {
        const out = Uint8Array.from(bytes);
        out.fill(0, 0, zeros);
        if (zeros < 32) out[zeros] = (out[zeros] as number) | 0x80;
        return out;
      }),
    );
    fc.assert(
      fc.property(half, half, (r, s) => {
        const raw = Buffer.concat([r, s]);
        const der = ecdsaJoseToDer(raw, 32);
        assert.ok(der);
        assert.deepEqual(ecdsaDerToJose(der, 32), raw);
      }),
      { numRuns: 2000 },
    );
  });
});
