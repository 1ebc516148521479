/**
 * `npm run bench -- verify [--rounds=15] [--iterations=5000]`: in-process access-token verification throughput,
 * ES256 and EdDSA, for three contenders on the same tokens in the same run:
 *   - `sdk`:  @mandate/sdk `createVerifier().verify()` (full RFC 9068 checks: parse, alg, typ, kid, signature, claims);
 *   - `raw`:  node:crypto `verify` of the signature alone over the same signing input, DER signature prepared ahead
 *             (the floor: no parsing, no claims);
 *   - `jose`: jose `jwtVerify` with a local key and the same checks (issuer, audience, typ, algorithms).
 * For ES256 it also times `raw-p1363` (node's `dsaEncoding: 'ieee-p1363'` on the JOSE signature), the option the
 * SDK avoids, and `sdk-dpop`: the same verification of DPoP-bound tokens (`cnf.jkt`) presented with a fresh ES256 proof
 * each (RFC 9449 §7: proof checks, `ath`, key match, the in-memory `jti` replay cache); proofs are made before the
 * round, so only the resource's cost is timed. Warm-up first, then rounds interleaved across contenders; the median round is reported.
 * Writes bench/results/verify-<date>.json.
 */
import { generateKeyPairSync, randomUUID, sign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { importJWK, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { DpopProver } from '../packages/sdk/src/dpop/prover.ts';
import { MemoryDpopReplayCache } from '../packages/sdk/src/dpop/replay-cache.ts';
import { createVerifier } from '../packages/sdk/src/verify/create-verifier.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const rounds = Number(args.get('rounds') ?? 15);
const iterations = Number(args.get('iterations') ?? 5_000);
const tokenCount = 1_000;
const audience = 'https://mcp.example.test/mcp';

type Alg = 'ES256' | 'EdDSA';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function derFromP1363(signature: Buffer): Buffer {
  const int = (bytes: Buffer) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const body = bytes.subarray(i);
    return (body[0] as number) & 0x80 ? Buffer.concat([Buffer.from([2, body.length + 1, 0]), body]) : Buffer.concat([Buffer.from([2, body.length]), body]);
  };
  const r = int(signature.subarray(0, 32));
  const s = int(signature.subarray(32));
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}

interface Fixture {
  alg: Alg;
  kid: string;
  publicKey: KeyObject;
  jwk: JWK;
  tokens: string[];
  /** The same claims with `cnf.jkt` of the bench's DPoP key. */
  boundTokens: string[];
  inputs: Buffer[];
  signatures: Buffer[];
  derSignatures: Buffer[];
}

function makeFixture(alg: Alg, issuer: string): Fixture {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const kid = `${alg}-bench`;
  const fixture: Fixture = {
    alg,
    kid,
    publicKey: pair.publicKey,
    jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as JWK,
    tokens: [],
    boundTokens: [],
    inputs: [],
    signatures: [],
    derSignatures: [],
  };
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < tokenCount; i++) {
    const claims = {
      iss: issuer, sub: `usr_${i}`, aud: audience, exp: now + 3600, iat: now, jti: randomUUID(),
      client_id: 'agt_bench', scope: 'files:read files:write',
      act: { sub: 'agt_bench', sub_profile: 'ai_agent', client_id: 'agt_bench' },
    };
    const input = `${b64({ alg, typ: 'at+jwt', kid })}.${b64(claims)}`;
    const data = Buffer.from(input);
    const signature = alg === 'ES256'
      ? sign('sha256', data, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(null, data, pair.privateKey);
    fixture.tokens.push(`${input}.${signature.toString('base64url')}`);
    const boundInput = Buffer.from(`${b64({ alg, typ: 'at+jwt', kid })}.${b64({ ...claims, cnf: { jkt: prover.jkt } })}`);
    const boundSignature = alg === 'ES256' ? sign('sha256', boundInput, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }) : sign(null, boundInput, pair.privateKey);
    fixture.boundTokens.push(`${boundInput.toString()}.${boundSignature.toString('base64url')}`);
    fixture.inputs.push(data);
    fixture.signatures.push(signature);
    fixture.derSignatures.push(alg === 'ES256' ? derFromP1363(signature) : signature);
  }
  return fixture;
}

/** Runs `iterations` calls and returns ops/s. Async contenders are awaited one at a time, as a request would be. */
async function timeRound(run: (i: number) => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const result = run(i % tokenCount);
    if (result instanceof Promise) await result;
    else if (result !== true && typeof result !== 'object') throw new Error('verification failed');
  }
  return iterations / (Number(process.hrtime.bigint() - start) / 1e9);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** The client's DPoP key; each `sdk-dpop` call gets a proof of its own, made before the round. */
const prover = DpopProver.generate('ES256');
let proofs: string[] = [];
let nextProof = 0;
const makeProofs = (fixture: Fixture) => {
  proofs = Array.from({ length: iterations }, (_, i) => prover.proof('GET', audience, fixture.boundTokens[i % tokenCount] as string));
  nextProof = 0;
};

// A local issuer for the SDK's discovery: metadata and JWKS, fetched once before timing starts.
const fixtures: Fixture[] = [];
const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/.well-known/oauth-authorization-server') {
    res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` }));
  } else if (req.url === '/jwks') {
    res.end(JSON.stringify({ keys: fixtures.map((f) => f.jwk) }));
  } else {
    res.writeHead(404).end('{}');
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
fixtures.push(makeFixture('ES256', issuer), makeFixture('EdDSA', issuer));

// Every verifier discovers its keys before any timing starts.
const verifiers = new Map(fixtures.map((f) => [f.alg, createVerifier({ issuer, audience, algorithms: [f.alg] })]));
for (const fixture of fixtures) await verifiers.get(fixture.alg)?.verify(fixture.tokens[0] as string);

const results: Record<string, Record<string, { median: number; rounds: number[] }>> = {};
for (const fixture of fixtures) {
  const verifier = verifiers.get(fixture.alg) as ReturnType<typeof createVerifier>;
  const joseKey = await importJWK(fixture.jwk, fixture.alg);
  const hash = fixture.alg === 'ES256' ? 'sha256' : null;
  const contenders: Record<string, (i: number) => unknown> = {
    sdk: (i) => verifier.verify(fixture.tokens[i] as string),
    raw: (i) => cryptoVerify(hash, fixture.inputs[i] as Buffer, fixture.publicKey, fixture.derSignatures[i] as Buffer),
    jose: (i) => jwtVerify(fixture.tokens[i] as string, joseKey, { issuer, audience, typ: 'at+jwt', algorithms: [fixture.alg] }),
  };
  if (fixture.alg === 'ES256') {
    const p1363Key = { key: fixture.publicKey, dsaEncoding: 'ieee-p1363' as const };
    contenders['raw-p1363'] = (i) => cryptoVerify('sha256', fixture.inputs[i] as Buffer, p1363Key, fixture.signatures[i] as Buffer);
    // Every proof is new, so the replay cache records each one (sized for the whole run).
    const replayCache = new MemoryDpopReplayCache({ maxEntries: (rounds + 2) * iterations });
    const dpopVerifier = createVerifier({ issuer, audience, algorithms: [fixture.alg], dpop: { replayCache } });
    await dpopVerifier.verify(fixture.tokens[0] as string);
    contenders['sdk-dpop'] = (i) => {
      const proof = proofs[nextProof++] as string;
      return dpopVerifier.verify(fixture.boundTokens[i] as string, { request: { scheme: 'DPoP', proof, method: 'GET', url: audience } });
    };
  }
  // Correctness before speed: every contender must accept the tokens.
  const auth = await verifier.verify(fixture.tokens[0] as string);
  if (auth.agentId !== 'agt_bench') throw new Error('sdk verification produced the wrong AuthInfo');
  makeProofs(fixture);
  for (const run of Object.values(contenders)) await timeRound(run); // warm-up
  const perContender: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(contenders)) {
      if (name === 'sdk-dpop') makeProofs(fixture);
      perContender[name]?.push(await timeRound(run));
    }
  }
  results[fixture.alg] = Object.fromEntries(
    Object.entries(perContender).map(([name, values]) => [name, { median: median(values), rounds: values.map(Math.round) }]),
  );
}
server.close();

const report: Record<string, unknown> = {
  benchmark: 'verify',
  date: new Date().toISOString(),
  node: process.version,
  openssl: process.versions.openssl,
  cpu: cpus()[0]?.model,
  rounds,
  iterationsPerRound: iterations,
  distinctTokens: tokenCount,
  results: {},
};
console.log(`verify throughput (ops/s, median of ${rounds} rounds × ${iterations}; node ${process.version})`);
for (const [alg, byName] of Object.entries(results)) {
  const sdk = byName.sdk?.median ?? 0;
  const raw = byName.raw?.median ?? 0;
  const jose = byName.jose?.median ?? 0;
  const ratios = {
    sdkOverRaw: sdk / raw,
    sdkOverJose: sdk / jose,
    ...(byName['raw-p1363'] ? { rawP1363OverRaw: byName['raw-p1363'].median / raw } : {}),
    ...(byName['sdk-dpop'] ? { sdkDpopOverSdk: byName['sdk-dpop'].median / sdk } : {}),
  };
  (report.results as Record<string, unknown>)[alg] = { opsPerSecond: Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, Math.round(v.median)])), rounds: Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, v.rounds])), ratios };
  console.log(`${alg}:`);
  for (const [name, { median: m }] of Object.entries(byName)) console.log(`  ${name.padEnd(10)} ${Math.round(m).toLocaleString('en-US').padStart(8)}`);
  console.log(`  sdk/raw  ${(ratios.sdkOverRaw * 100).toFixed(1)}%   sdk/jose ${ratios.sdkOverJose.toFixed(2)}×${ratios.rawP1363OverRaw === undefined ? '' : `   raw-p1363/raw ${(ratios.rawP1363OverRaw * 100).toFixed(1)}%`}`);
  if (ratios.sdkDpopOverSdk !== undefined) console.log(`  sdk-dpop/sdk ${(ratios.sdkDpopOverSdk * 100).toFixed(1)}% (a DPoP-bound token with its proof, against a bearer token)`);
}
const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL(`verify-${new Date().toISOString().slice(0, 10)}.json`, dir);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
