import { createHash, randomUUID, sign } from 'node:crypto';
import { basicAuth, decodeJwt, MCP_RESOURCE } from '../helpers/server.ts';
import { type FuzzRequest, type FuzzResponse, type FuzzTarget, judge, labelOf, OracleFailure, send, type Verdict } from './fuzz-harness.ts';
import type { FuzzWorld } from './fuzz-world.ts';
import type { JwtKey } from './hostile-jwt.ts';
import { formText, type Mutation, mutateObject, mutation, NONE } from './mutations.ts';

/**
 * Valid proofs with one claim changed: DPoP proofs (RFC 9449) at the token endpoint, `private_key_jwt` client
 * assertions and `jwt-bearer` grants of a trusted issuer (RFC 7523), and registration metadata (RFC 7591) with one
 * member changed. Each proof is signed correctly
 * with the real key and carries a fresh `jti` and the server's current time, so a refusal comes from the check of the
 * changed claim. The oracles know what must be refused (a proof for another method or URL, out of its time window,
 * replayed, signed by another key; an assertion naming another client or audience) and what a success must carry.
 */

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A compact JWS over the given header and payload, signed ES256 with `key`. */
export function signEs256(key: JwtKey['privateKey'], header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${b64(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

const publicMembers = (jwk: Record<string, unknown>) => ({ kty: jwk['kty'], crv: jwk['crv'], x: jwk['x'], y: jwk['y'] });

/** RFC 7638 thumbprint of an EC public key. */
const thumbprint = (jwk: Record<string, unknown>): string =>
  createHash('sha256').update(JSON.stringify({ crv: jwk['crv'], kty: jwk['kty'], x: jwk['x'], y: jwk['y'] })).digest('base64url');

/** A valid DPoP proof of the world's DPoP key for POST `path`, at the server's current time. */
export function dpopProof(w: FuzzWorld, path: string): string {
  return signEs256(w.dpop.privateKey, { typ: 'dpop+jwt', alg: 'ES256', jwk: publicMembers(w.dpop.publicJwk) }, { jti: randomUUID(), htm: 'POST', htu: `${w.server.issuer}${path}`, iat: w.server.clock.now() });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function exchange(w: FuzzWorld, request: FuzzRequest): Promise<{ request: FuzzRequest; response: FuzzResponse; body: Record<string, unknown> }> {
  const response = await send(w.server.issuer, request);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    // the format oracle judges it
  }
  return { request, response, body };
}

function check(ok: boolean, what: string, m: Mutation, request: FuzzRequest, response: FuzzResponse): void {
  if (!ok) throw new OracleFailure(`${what} (mutation ${JSON.stringify(m)}): ${String(request.headers['dpop'] ?? request.body ?? '').slice(0, 400)} → ${response.status} ${response.body.slice(0, 300)}`);
}

/** Whether two URLs name the same resource once query, fragment and userinfo are dropped (RFC 9449 §4.3, RFC 3986 §6). */
function sameHtu(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || !URL.canParse(a)) return false;
  const [x, y] = [new URL(a), new URL(b)];
  return x.protocol === y.protocol && x.host === y.host && x.pathname === y.pathname;
}

/** Whether a proof's `jwk` is the public key given, extra public members allowed, private ones not (RFC 9449 §4.3). */
function sameKey(sent: unknown, jwk: Record<string, unknown>): boolean {
  if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) return false;
  const members = sent as Record<string, unknown>;
  return !['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((m) => m in members) && JSON.stringify(publicMembers(members)) === JSON.stringify(jwk);
}

/** Splits a mutation's field into the part it changes: `h.typ` is a header member, anything else a claim. */
const part = (m: Mutation): ['header' | 'payload', Mutation] => (m.field.startsWith('h.') ? ['header', { ...m, field: m.field.slice(2) }] : ['payload', m]);

/** DPoP proofs at POST /token (client credentials), one header member or claim changed, or the proof replayed. */
const dpop: FuzzTarget<Mutation> = {
  name: 'success:dpop-proof',
  inputs: () => mutation(['h.typ', 'h.alg', 'h.jwk', 'jti', 'htm', 'htu', 'iat', 'nonce', 'ath', 'replay', 'other-key', 'two-proofs']),
  async run(w, m): Promise<Verdict> {
    const now = w.server.clock.now();
    const token = `${w.server.issuer}/token`;
    const jwk = publicMembers(w.dpop.publicJwk);
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
    const payload = { jti: randomUUID(), htm: 'POST', htu: token, iat: now };
    const alternatives = (field: string): readonly unknown[] => ({
      typ: ['DPoP+JWT', 'application/dpop+jwt', 'jwt', 'at+jwt', 'dpop+jwt ', ''],
      alg: ['ES384', 'RS256', 'none', 'HS256', 'EdDSA', 'es256', ''],
      jwk: [publicMembers(w.forger.publicJwk), { ...jwk, d: 'AAAA' }, { kty: 'oct', k: 'AAAA' }, { ...jwk, crv: 'P-384' }, { ...jwk, kid: 'x' }, { ...jwk, x: jwk.y }, 'jwk', []],
      jti: ['', 'x'.repeat(300), 'x'.repeat(256), 1, null, ['a'], randomUUID()],
      htm: ['GET', 'post', 'PUT', 'POST ', 'OPTIONS', ''],
      htu: [`${token}/`, `${token.toUpperCase()}`, `${token}?x=1`, `${token}#x`, `${w.server.issuer}/TOKEN`, `${w.server.issuer}/par`, 'https://evil.example/token', `${w.server.issuer}/./token`,
        token.replace('127.0.0.1', 'localhost'), token.replace('http:', 'https:'), token.replace('//', '//user:pass@'), 'token', ''],
      iat: [now - 301, now - 299, now + 59, now + 61, now - 3600, now + 3600, String(now), now + 0.5, 1e20, -1, null],
      nonce: ['x', '', 1],
      ath: ['x', ''],
    })[field] ?? [];
    const [where, change] = part(m);
    const special = ['replay', 'other-key', 'two-proofs'].includes(m.field);
    const h = where === 'header' && !special ? mutateObject(header, change, alternatives) : header;
    const p = where === 'payload' && !special ? mutateObject(payload, change, alternatives) : payload;
    const proof = signEs256(m.field === 'other-key' ? w.forger.privateKey : w.dpop.privateKey, h, p);
    const request = (value: string): FuzzRequest => ({
      method: 'POST', path: '/token', headers: { ...FORM, authorization: basicAuth(w.agent.clientId, w.agent.clientSecret), dpop: value }, body: 'grant_type=client_credentials',
    });
    if (m.field === 'replay') {
      const first = await exchange(w, request(proof));
      const second = await exchange(w, request(proof));
      judge('oauth', first.request, first.response);
      const verdict = judge('oauth', second.request, second.response);
      check(first.response.status === 200, 'a valid DPoP proof was refused', m, first.request, first.response);
      check(second.response.status === 400 && second.body['error'] === 'invalid_dpop_proof', 'a DPoP proof was accepted twice', m, second.request, second.response);
      return { outcome: 'accepted', label: `replay: ${labelOf(first.response)} + ${verdict.label}` };
    }
    const { request: sentRequest, response, body } = await exchange(w, request(m.field === 'two-proofs' ? `${proof}, ${dpopProof(w, '/token')}` : proof));
    const verdict = judge('oauth', sentRequest, response);
    const iat = p['iat'];
    const jti = p['jti'];
    const mustRefuse =
      m.field === 'other-key' ||
      m.field === 'two-proofs' ||
      typeof h['typ'] !== 'string' || !/^(application\/)?dpop\+jwt$/i.test(h['typ']) ||
      h['alg'] !== 'ES256' ||
      !sameKey(h['jwk'], jwk) ||
      typeof jti !== 'string' || jti === '' || jti.length > 256 ||
      p['htm'] !== 'POST' ||
      !sameHtu(p['htu'], token) ||
      typeof iat !== 'number' || iat > now + 60 || iat < now - 300;
    if (mustRefuse) check(response.status === 400, 'a DPoP proof that fails RFC 9449 §4.3 was accepted', m, sentRequest, response);
    if (m.field === NONE) check(response.status === 200, 'a valid DPoP proof was refused', m, sentRequest, response);
    if (response.status === 200) {
      check(body['token_type'] === 'DPoP', 'a token issued with a DPoP proof is not a DPoP token', m, sentRequest, response);
      const cnf = decodeJwt(String(body['access_token'])).payload['cnf'] as Record<string, unknown> | undefined;
      check(cnf?.['jkt'] === thumbprint(jwk), 'a DPoP token bound to another key than the proof\'s', m, sentRequest, response);
    }
    return verdict;
  },
};

/** `private_key_jwt` client assertions at POST /token (client credentials), one header member or claim changed. */
const clientAssertion: FuzzTarget<Mutation> = {
  name: 'success:client-assertion',
  inputs: () => mutation(['h.alg', 'h.kid', 'h.typ', 'iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'assertion_type', 'replay', 'other-key']),
  async run(w, m): Promise<Verdict> {
    const now = w.server.clock.now();
    const id = w.keyed.clientId;
    const { issuer } = w.server;
    const header = { alg: 'ES256', kid: w.keyed.key.kid };
    const payload = { iss: id, sub: id, aud: issuer, exp: now + 60, iat: now, jti: randomUUID() };
    const alternatives = (field: string): readonly unknown[] => ({
      alg: ['ES384', 'RS256', 'none', 'HS256', 'es256', ''],
      kid: ['k2', '', 'K1', 1, null, '../k1'],
      typ: ['JWT', 'client-authentication+jwt', 'dpop+jwt'],
      iss: [w.agent.clientId, id.toUpperCase(), `${id} `, w.otherApp.clientId],
      sub: [w.agent.clientId, id.toUpperCase(), `${id} `, w.otherApp.clientId],
      aud: [`${issuer}/token`, [issuer], [issuer, 'https://evil.example'], `${issuer}/`, 'https://evil.example', issuer.toUpperCase(), [], [`${issuer}/token`, issuer]],
      exp: [now - 61, now - 59, now + 59, now + 299, now + 301, now + 86_400, String(now + 60), now + 0.5, null],
      iat: [now + 61, now + 59, now - 3600, String(now)],
      nbf: [now + 61, now + 59, now - 10],
      jti: ['', 1, null, 'x'.repeat(5000)],
    })[field] ?? [];
    const [where, change] = part(m);
    const special = ['replay', 'other-key', 'client_id', 'assertion_type'].includes(m.field);
    const h = where === 'header' && !special ? mutateObject(header, change, alternatives) : header;
    const p = where === 'payload' && !special ? mutateObject(payload, change, alternatives) : payload;
    const assertion = signEs256(m.field === 'other-key' ? w.forger.privateKey : w.keyed.key.privateKey, h, p);
    const form: [string, string][] = [
      ['grant_type', 'client_credentials'],
      ['client_assertion_type', m.field === 'assertion_type' ? 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' : 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
      ['client_assertion', assertion],
      ...(m.field === 'client_id' ? [['client_id', m.edit.op === 'pick' && m.edit.index % 2 === 0 ? id : w.agent.clientId] as [string, string]] : []),
    ];
    const request: FuzzRequest = { method: 'POST', path: '/token', headers: FORM, body: formText(form) };
    if (m.field === 'replay') {
      const first = await exchange(w, request);
      const second = await exchange(w, request);
      judge('oauth', first.request, first.response);
      const verdict = judge('oauth', second.request, second.response);
      check(first.response.status === 200, 'a valid client assertion was refused', m, first.request, first.response);
      check(second.response.status === 401 && second.body['error'] === 'invalid_client', 'a client assertion was accepted twice', m, second.request, second.response);
      return { outcome: 'accepted', label: `replay: ${labelOf(first.response)} + ${verdict.label}` };
    }
    const { response, body } = await exchange(w, request);
    const verdict = judge('oauth', request, response);
    const aud = [p['aud']].flat();
    const ours = [issuer, `${issuer}/token`];
    const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    const mustRefuse =
      m.field === 'other-key' || m.field === 'assertion_type' ||
      (m.field === 'client_id' && !(m.edit.op === 'pick' && m.edit.index % 2 === 0)) ||
      h['alg'] !== 'ES256' || ('kid' in h && h['kid'] !== w.keyed.key.kid) ||
      p['iss'] !== id || p['sub'] !== id ||
      aud.length === 0 || !aud.every((a) => typeof a === 'string' && ours.includes(a)) ||
      !num(p['exp']) || p['exp'] < now - 60 || p['exp'] - now > 300 ||
      ('iat' in p && num(p['iat']) && p['iat'] > now + 60) ||
      ('nbf' in p && num(p['nbf']) && p['nbf'] > now + 60) ||
      typeof p['jti'] !== 'string' || p['jti'] === '';
    if (mustRefuse) check(response.status >= 400, 'a client assertion that fails RFC 7523 §3 was accepted', m, request, response);
    if (m.field === NONE) check(response.status === 200, 'a valid client assertion was refused', m, request, response);
    if (response.status === 200) check(decodeJwt(String(body['access_token'])).payload['client_id'] === id, 'a token issued to another client than the assertion\'s', m, request, response);
    return verdict;
  },
};

/** Dynamic client registration (RFC 7591) with valid metadata, one member changed; a registered client is read back (RFC 7592). */
const registration: FuzzTarget<Mutation> = {
  name: 'success:registration',
  inputs: () => mutation(['redirect_uris', 'client_name', 'token_endpoint_auth_method', 'grant_types', 'response_types', 'scope', 'jwks', 'jwks_uri', 'client_uri', 'logo_uri', 'contacts', 'software_statement', 'client_id', 'client_secret']),
  async run(w, m): Promise<Verdict> {
    const valid = { redirect_uris: ['https://app.example.com/callback'], client_name: 'fuzz app', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'calc' };
    const alternatives = (field: string): readonly unknown[] => ({
      redirect_uris: [['https://app.example.com/callback/'], ['http://app.example.com/callback'], ['https://app.example.com/cb#frag'], ['javascript:alert(1)'], ['http://127.0.0.1:8080/cb'], ['http://localhost/cb'],
        [], 'https://app.example.com/callback', ['com.example.app:/cb'], ['https://a.example/cb', 'https://b.example/cb'], ['https://app.exаmple.com/cb'], ['https://user@app.example.com/cb'], ['data:text/html,x'], ['https://*.example.com/cb']],
      token_endpoint_auth_method: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none ', 'tls_client_auth', 'client_secret_jwt', 'NONE'],
      grant_types: [['authorization_code'], ['client_credentials'], ['implicit'], ['password'], [], [`urn:ietf:params:oauth:grant-type:token-exchange`], 'authorization_code', ['refresh_token']],
      response_types: [['token'], ['code id_token'], [], ['code', 'code'], 'code'],
      scope: ['openid calc', 'exec', 'admin', '', 'calc calc', 'files:read files:write'],
      client_name: ['', 'x'.repeat(1000), 'Mаndate', 'fuzz\u202eppa'],
      jwks: [{ keys: [w.keyed.key.publicJwk] }, { keys: [] }, { keys: [{ kty: 'oct', k: 'AAAA' }] }, { keys: [{ ...w.keyed.key.publicJwk, d: 'AAAA' }] }],
      jwks_uri: ['https://keys.example.com/jwks', 'http://169.254.169.254/latest/meta-data', 'file:///etc/passwd'],
      client_uri: ['https://app.example.com', 'javascript:alert(1)', 'http://app.example.com'],
      logo_uri: ['https://app.example.com/logo.png', 'javascript:alert(1)', 'data:image/png;base64,AAAA'],
      contacts: [['admin@example.com'], 'admin@example.com', [1]],
      software_statement: ['a.b.c', 'e30.e30.'],
      client_id: ['chosen-id', w.app.clientId],
      client_secret: ['chosen-secret'],
    })[field] ?? [];
    const metadata = mutateObject(valid, m, alternatives);
    const request: FuzzRequest = { method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) };
    const { response, body } = await exchange(w, request);
    const verdict = judge('oauth', request, response);
    const uris = metadata['redirect_uris'];
    const grants = [metadata['grant_types'] ?? []].flat();
    const mustRefuse =
      (Array.isArray(uris) && uris.some((u) => typeof u !== 'string' || /#|^javascript:|^data:|^http:\/\/(?!127\.0\.0\.1|localhost|\[::1\])/i.test(u))) ||
      grants.includes('implicit') || grants.includes('password') ||
      [metadata['response_types'] ?? []].flat().includes('token');
    if (mustRefuse) check(response.status >= 400, 'registration metadata RFC 7591 §2 and OAuth 2.1 forbid was registered', m, request, response);
    if (m.field === NONE) check(response.status === 201, 'valid registration metadata was refused', m, request, response);
    if (response.status === 201) {
      check(typeof body['client_id'] === 'string' && body['client_id'] !== metadata['client_id'], 'a registration kept a client_id the client chose', m, request, response);
      check(body['client_secret'] !== metadata['client_secret'] || body['client_secret'] === undefined, 'a registration kept a client_secret the client chose', m, request, response);
      const read = await exchange(w, { method: 'GET', path: `/register/${encodeURIComponent(String(body['client_id']))}`, headers: { authorization: `Bearer ${String(body['registration_access_token'])}` } });
      check(read.response.status === 200 && read.body['client_id'] === body['client_id'], 'a registered client cannot be read back with its registration access token', m, read.request, read.response);
      check(JSON.stringify(read.body['redirect_uris']) === JSON.stringify(body['redirect_uris']), 'a registered client reads back with other redirect URIs', m, read.request, read.response);
    }
    return verdict;
  },
};

/** RFC 7523 `jwt-bearer` grants: a trusted issuer's assertion for the world's user (by email), one claim changed. */
const jwtBearer: FuzzTarget<Mutation> = {
  name: 'success:jwt-bearer',
  inputs: () => mutation(['h.alg', 'h.kid', 'h.typ', 'iss', 'sub', 'aud', 'email', 'exp', 'iat', 'nbf', 'jti', 'auth_time', 'scope', 'resource', 'client_id', 'cnf', 'replay', 'other-key']),
  async run(w, m): Promise<Verdict> {
    const now = w.server.clock.now();
    const { issuer } = w.server;
    const { workload } = w;
    const header = { alg: 'ES256', kid: workload.key.kid };
    const payload = { iss: workload.issuer, sub: `w-${randomUUID()}`, aud: issuer, email: w.app.email, iat: now, exp: now + 120, jti: randomUUID() };
    const alternatives = (field: string): readonly unknown[] => ({
      alg: ['ES384', 'RS256', 'none', 'HS256', ''],
      kid: ['w2', '', 'W1', 1, null],
      typ: ['JWT', 'oauth-id-jag+jwt', 'at+jwt', 'dpop+jwt', 'secevent+jwt'],
      iss: [issuer, `${workload.issuer}/`, workload.issuer.toUpperCase(), 'https://idp.example.com', ''],
      sub: ['', 1, null, 'x'.repeat(5000)],
      aud: [`${issuer}/token`, [issuer], [issuer, 'https://evil.example'], `${issuer}/`, 'https://evil.example', [], issuer.toUpperCase()],
      email: ['nobody@example.com', w.app.email.toUpperCase(), ` ${w.app.email}`, '', 1, [w.app.email]],
      exp: [now - 61, now - 59, now + 59, now + 599, now + 601, now + 60.5, String(now + 60), null],
      iat: [now + 61, now + 59, now + 0.5, now - 3600, String(now)],
      nbf: [now + 61, now + 59, now - 10, now + 0.5],
      jti: ['', 1, null, 'x'.repeat(5000)],
      auth_time: [now - 10, now + 0.5, String(now), -1, 1e20, 2 ** 31, null],
      scope: ['calc', 'exec', 'files:read', 'calc exec', '', 1],
      resource: [MCP_RESOURCE, 'https://other.example/mcp', [MCP_RESOURCE, 'https://other.example/mcp'], 'not a uri', 1, []],
      client_id: [workload.client.clientId, w.agent.clientId, ''],
      cnf: [{ jkt: 'x' }, { jkt: thumbprint(publicMembers(w.dpop.publicJwk)) }, {}, 'x'],
    })[field] ?? [];
    const [where, change] = part(m);
    const special = ['replay', 'other-key'].includes(m.field);
    const h = where === 'header' && !special ? mutateObject(header, change, alternatives) : header;
    const p: Record<string, unknown> = where === 'payload' && !special ? mutateObject(payload, change, alternatives) : payload;
    const assertion = signEs256(m.field === 'other-key' ? w.forger.privateKey : workload.key.privateKey, h, p);
    const body = formText([['grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer'], ['assertion', assertion], ['resource', MCP_RESOURCE], ['scope', 'calc']]);
    const request: FuzzRequest = { method: 'POST', path: '/token', headers: { ...FORM, authorization: basicAuth(workload.client.clientId, workload.client.clientSecret) }, body };
    if (m.field === 'replay') {
      const first = await exchange(w, request);
      const second = await exchange(w, request);
      judge('oauth', first.request, first.response);
      const verdict = judge('oauth', second.request, second.response);
      check(first.response.status === 200, 'a valid jwt-bearer assertion was refused', m, first.request, first.response);
      check(second.response.status === 400 && second.body['error'] === 'invalid_grant', 'a jwt-bearer assertion was accepted twice', m, second.request, second.response);
      return { outcome: 'accepted', label: `replay: ${labelOf(first.response)} + ${verdict.label}` };
    }
    const { response, body: answer } = await exchange(w, request);
    const verdict = judge('oauth', request, response);
    const aud = [p['aud']].flat();
    const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    const iat = num(p['iat']) ? p['iat'] : now;
    const mustRefuse =
      m.field === 'other-key' ||
      h['alg'] !== 'ES256' || ('kid' in h && h['kid'] !== workload.key.kid) ||
      p['iss'] !== workload.issuer ||
      typeof p['sub'] !== 'string' || p['sub'] === '' ||
      aud.length === 0 || !aud.every((a) => typeof a === 'string' && [issuer, `${issuer}/token`].includes(a)) ||
      !num(p['exp']) || p['exp'] < now - 60 || p['exp'] - Math.min(iat, now) > 600 ||
      (num(p['iat']) && p['iat'] > now + 60) ||
      (num(p['nbf']) && p['nbf'] > now + 60) ||
      typeof p['jti'] !== 'string' || p['jti'] === '' ||
      p['email'] === 'nobody@example.com' || typeof p['email'] !== 'string' ||
      ('client_id' in p && p['client_id'] !== workload.client.clientId) ||
      ('auth_time' in p && !(num(p['auth_time']) && p['auth_time'] >= 0 && p['auth_time'] <= now + 60)) ||
      (typeof p['cnf'] === 'object' && p['cnf'] !== null && 'jkt' in (p['cnf'] as object));
    if (mustRefuse) check(response.status >= 400, 'a jwt-bearer assertion that fails RFC 7523 §3 was accepted', m, request, response);
    if (m.field === NONE) check(response.status === 200, 'a valid jwt-bearer assertion was refused', m, request, response);
    if (response.status === 200) {
      const claims = decodeJwt(String(answer['access_token'])).payload;
      check(subset(String(answer['scope'] ?? '').split(' ').filter(Boolean), ['calc']), 'a jwt-bearer grant gave a scope beyond the trusted issuer\'s', m, request, response);
      check([claims['aud']].flat().every((a) => a === MCP_RESOURCE), 'a jwt-bearer grant gave an audience nobody asked for', m, request, response);
      check(claims['client_id'] === workload.client.clientId, 'a jwt-bearer token issued to another client', m, request, response);
    }
    return verdict;
  },
};

const subset = (a: readonly string[], b: readonly string[]): boolean => a.every((x) => b.includes(x));

export const proofTargets: FuzzTarget<any>[] = [dpop, clientAssertion, jwtBearer, registration];
