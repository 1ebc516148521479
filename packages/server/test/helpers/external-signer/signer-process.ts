/**
 * A stand-in for a KMS or HSM, in a process of its own: it makes key pairs, keeps the private halves in its memory
 * only, and signs on request over HTTP on loopback. Mandate reaches it through `signer-module.ts`, an
 * `ExternalKeySigner` as an operator would write one for their KMS. Prints `listening <port>` when ready.
 *
 * POST /keys {alg} → {keyRef, publicJwk}; POST /sign {keyRef, alg, input} → {signature} (base64url, JWS form);
 * GET /stats → {keys, signatures}; POST /mode {mode: 'normal' | 'refuse' | 'wrong-key'} makes it fail on purpose.
 */
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureMakerFor, type SigningAlgorithm } from '@mandate/protocol';

const keys = new Map<string, { alg: SigningAlgorithm; privateKey: KeyObject }>();
let signatures = 0;
let mode: 'normal' | 'refuse' | 'wrong-key' = 'normal';
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

function pair(alg: SigningAlgorithm) {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const input = body ? (JSON.parse(body) as Record<string, string>) : {};
  const send = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  if (req.method === 'POST' && req.url === '/mode') {
    mode = input['mode'] as typeof mode;
    return send(200, { mode });
  }
  if (req.method === 'GET' && req.url === '/stats') return send(200, { keys: keys.size, signatures });
  if (mode === 'refuse') return send(503, { error: 'the HSM is unavailable' });
  if (req.method === 'POST' && req.url === '/keys') {
    const alg = input['alg'] as SigningAlgorithm;
    const { publicKey, privateKey } = pair(alg);
    const keyRef = `hsm-key-${randomUUID()}`;
    keys.set(keyRef, { alg, privateKey });
    return send(201, { keyRef, publicJwk: publicKey.export({ format: 'jwk' }) });
  }
  if (req.method === 'POST' && req.url === '/sign') {
    const key = keys.get(input['keyRef']!);
    if (!key || key.alg !== input['alg']) return send(404, { error: 'no such key' });
    signatures += 1;
    const signer = signatureMakerFor(key.alg, mode === 'wrong-key' && key.alg === 'ES256' ? stranger : key.privateKey);
    return send(200, { signature: signer(Buffer.from(input['input']!, 'base64url')).toString('base64url') });
  }
  send(404, { error: 'not found' });
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
