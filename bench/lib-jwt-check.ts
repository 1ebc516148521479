import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';

/** What an RFC 9068 access token from either server must carry for the benchmark to count it as right. */
export interface ExpectedAccessToken {
  issuer: string;
  jwksUrl: string;
  clientId: string;
  audience: string;
  scope: string;
  lifetimeSeconds: number;
}

const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

/**
 * Checks one access token before any load: ES256 signature against the server's JWKS (verified here with node:crypto,
 * independently of both servers' code), `typ` at+jwt (RFC 9068 §2.1), and the §2.2 claims. Throws on the first
 * mismatch; returns the header and claims for the record.
 */
export async function checkAccessToken(token: string, expected: ExpectedAccessToken): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('access token is not a compact JWS');
  const header = decode(parts[0]!);
  const claims = decode(parts[1]!);
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => ok || problems.push(what);

  expect(header['alg'] === 'ES256', `alg is ${String(header['alg'])}, expected ES256`);
  expect(header['typ'] === 'at+jwt' || header['typ'] === 'application/at+jwt', `typ is ${String(header['typ'])}, expected at+jwt`);
  const jwks = (await (await fetch(expected.jwksUrl)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === header['kid']);
  if (!jwk) {
    problems.push(`kid ${String(header['kid'])} is not in ${expected.jwksUrl}`);
  } else {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const signed = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2]!, 'base64url'));
    expect(signed, 'signature does not verify');
  }
  const now = Math.floor(Date.now() / 1000);
  expect(claims['iss'] === expected.issuer, `iss is ${String(claims['iss'])}, expected ${expected.issuer}`);
  expect([claims['aud']].flat().includes(expected.audience), `aud is ${JSON.stringify(claims['aud'])}, expected ${expected.audience}`);
  expect(claims['client_id'] === expected.clientId, `client_id is ${String(claims['client_id'])}`);
  expect(claims['sub'] === expected.clientId, `sub is ${String(claims['sub'])}, expected the client id (RFC 9068 §2.2 for client_credentials)`);
  expect(claims['scope'] === expected.scope, `scope is ${String(claims['scope'])}, expected ${expected.scope}`);
  expect(typeof claims['jti'] === 'string' && claims['jti'] !== '', 'jti is missing');
  expect(typeof claims['iat'] === 'number' && Math.abs((claims['iat'] as number) - now) < 60, 'iat is not now');
  expect(typeof claims['exp'] === 'number' && (claims['exp'] as number) > now, 'exp is not in the future');
  expect((claims['exp'] as number) - (claims['iat'] as number) === expected.lifetimeSeconds, `lifetime is not ${expected.lifetimeSeconds} s`);
  if (problems.length > 0) throw new Error(`access token check failed:\n  ${problems.join('\n  ')}`);
  return { header, claims };
}
