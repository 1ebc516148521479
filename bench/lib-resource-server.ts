/**
 * A resource server (an MCP server's HTTP front, without MCP) that verifies the bearer token of every request
 * locally, run as its own process by sdk-verify.ts: RS_VERIFIER=sdk uses @mandate/sdk `createVerifier` (metadata
 * and JWKS discovered from RS_ISSUER once), RS_VERIFIER=jose uses jose `jwtVerify` with `createRemoteJWKSet`
 * (RS_JWKS_URL, fetched once and cached), both with the same checks: ES256 only, `typ` at+jwt, `iss`, `aud`,
 * `exp`. 200 with the token's subject, or 401. Prints `resource server (<verifier>) listening on <url>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createVerifier } from '../packages/sdk/src/verify/create-verifier.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const issuer = env('RS_ISSUER');
const audience = env('RS_AUDIENCE');
const kind = env('RS_VERIFIER');

let verify: (token: string) => Promise<string>;
if (kind === 'sdk') {
  const verifier = createVerifier({ issuer, audience, algorithms: ['ES256'] });
  verify = async (token) => (await verifier.verify(token)).subject;
} else if (kind === 'jose') {
  const jwks = createRemoteJWKSet(new URL(env('RS_JWKS_URL')));
  verify = async (token) => String((await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] })).payload.sub);
} else {
  throw new Error(`RS_VERIFIER must be sdk or jose, got ${kind}`);
}

const http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  verify(token).then(
    (sub) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, sub }));
    },
    () => {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
    },
  );
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
console.log(`resource server (${kind}) listening on http://127.0.0.1:${(http.address() as AddressInfo).port}`);
