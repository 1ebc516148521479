/**
 * A small authorization server for the SDK's tests, producing the documented wire format (RFC 8414 metadata, a JWKS,
 * RFC 9068 access tokens, RFC 7662 introspection, a client_credentials token endpoint). It signs with node:crypto
 * (ECDSA in ieee-p1363 form, independently of the SDK's DER conversion) so that negative cases can be crafted, and
 * it checks introspected tokens and client assertions with jose, not with the SDK under test.
 */
import { createHash, generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JWK } from 'jose';

export type TestAlg = 'ES256' | 'EdDSA' | 'RS256';

export interface TestKey {
  kid: string;
  alg: TestAlg;
  privateKey: KeyObject;
  publicJwk: JWK;
  published: boolean;
}

export interface TestIssuerOptions {
  /** Issuer path, e.g. '/tenant1' (metadata is then path-inserted). */
  path?: string;
  /** Serve this as the metadata `issuer` instead of the real one (RFC 8414 §3.3 mismatch tests). */
  metadataIssuer?: string;
  /** Lifetime of tokens from the token endpoint, in seconds. */
  tokenTtlSeconds?: number;
}

export interface TestClient {
  clientId: string;
  secret?: string;
  publicJwk?: JWK;
}

/** A programmed answer of the token endpoint; `client` is undefined for a public client (client_id only). */
export type GrantHandler = (form: URLSearchParams, client: TestClient | undefined) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startTestIssuer(options: TestIssuerOptions = {}) {
  const keys: TestKey[] = [];
  const revoked = new Set<string>();
  const resources = new Map<string, string>(); // API key → resource URI
  const clients = new Map<string, TestClient>();
  const resourceClients = new Map<string, { secret: string; uri: string }>(); // client id → resource, for introspection
  const counts = { metadata: 0, jwks: 0, introspection: 0, token: 0 };
  const tokenRequests: URLSearchParams[] = [];
  const revocationRequests: { form: URLSearchParams; authorization: string | undefined }[] = [];
  /** Members added to (or, when undefined, removed from) the metadata document. */
  let metadataExtra: Record<string, unknown> = {};
  /** Answers token requests of grant types other than client_credentials (authorization_code, refresh_token, …). */
  let grantHandler: GrantHandler | undefined;
  let revocationStatus = 200;
  let tokenTtlSeconds = options.tokenTtlSeconds ?? 300;
  let jwksStatus = 200;
  /** While set, token requests are answered only once the test opens it (see holdTokenResponses). */
  let tokenGate: { arrived: () => void; opened: Promise<void> } | undefined;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const path = options.path ?? '';
  const issuer = `${origin}${path}`;
  const endpoints = {
    token_endpoint: `${origin}${path}/token`,
    introspection_endpoint: `${origin}${path}/introspect`,
    revocation_endpoint: `${origin}${path}/revoke`,
    jwks_uri: `${origin}${path}/jwks`,
  };
  const resource = 'https://mcp.example.test/mcp';

  function createKey(alg: TestAlg, published = true): TestKey {
    const pair =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : alg === 'EdDSA'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
    const key: TestKey = {
      kid,
      alg,
      privateKey: pair.privateKey,
      publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as JWK,
      published,
    };
    keys.push(key);
    return key;
  }
  for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) createKey(alg);

  function keyFor(alg: TestAlg): TestKey {
    const key = keys.findLast((k) => k.alg === alg && k.published);
    if (key === undefined) throw new Error(`no ${alg} key`);
    return key;
  }

  /** Signs any header and payload; the header is used exactly as given. */
  function signJws(header: Record<string, unknown>, payload: Record<string, unknown>, key: TestKey): string {
    const input = `${b64(header)}.${b64(payload)}`;
    const data = Buffer.from(input);
    const signature =
      key.alg === 'ES256'
        ? cryptoSign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : cryptoSign(key.alg === 'EdDSA' ? null : 'sha256', data, key.privateKey);
    return `${input}.${signature.toString('base64url')}`;
  }

  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    const base: Record<string, unknown> = {
      iss: issuer,
      sub: 'usr_alice',
      aud: resource,
      exp: now + 300,
      iat: now,
      jti: randomUUID(),
      client_id: 'agt_writer',
      scope: 'files:read',
    };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete base[name];
      else base[name] = value;
    }
    return base;
  }

  /** An RFC 9068 access token; `header` entries override the default header, `key` picks the signing key. */
  function accessToken(
    overrides: Record<string, unknown> = {},
    init: { alg?: TestAlg; key?: TestKey; header?: Record<string, unknown> } = {},
  ): string {
    const key = init.key ?? keyFor(init.alg ?? 'ES256');
    return signJws({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...init.header }, claims(overrides), key);
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  }

  async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  function basicCredentials(req: IncomingMessage): [string, string] | undefined {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return [decode(decoded.slice(0, colon)), decode(decoded.slice(colon + 1))];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const metadataPaths = path === ''
      ? ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']
      : [`/.well-known/oauth-authorization-server${path}`, `/.well-known/openid-configuration${path}`];
    if (req.method === 'GET' && metadataPaths.includes(url.pathname)) {
      counts.metadata++;
      const document: Record<string, unknown> = {
        issuer: options.metadataIssuer ?? issuer,
        ...endpoints,
        authorization_endpoint: `${origin}${path}/authorize`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        grant_types_supported: ['client_credentials'],
      };
      for (const [name, value] of Object.entries(metadataExtra)) {
        if (value === undefined) delete document[name];
        else document[name] = value;
      }
      return json(res, 200, document);
    }
    if (req.method === 'GET' && url.pathname === `${path}/jwks`) {
      counts.jwks++;
      if (jwksStatus !== 200) return json(res, jwksStatus, { error: 'unavailable' });
      return json(res, 200, { keys: keys.filter((k) => k.published).map((k) => k.publicJwk) });
    }
    if (req.method === 'POST' && url.pathname === `${path}/introspect`) return introspect(req, res);
    if (req.method === 'POST' && url.pathname === `${path}/token`) return token(req, res);
    if (req.method === 'POST' && url.pathname === `${path}/revoke`) {
      revocationRequests.push({ form: await readForm(req), authorization: req.headers.authorization });
      if (revocationStatus === 200) return void res.writeHead(200, { 'cache-control': 'no-store' }).end();
      return json(res, revocationStatus, { error: 'unsupported_token_type', error_description: 'programmed refusal' });
    }
    json(res, 404, { error: 'not_found' });
  }

  async function verifyOwnToken(token: string) {
    const jwks = createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });
    return (await jwtVerify(token, jwks, { issuer, typ: 'at+jwt' })).payload;
  }

  async function introspect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counts.introspection++;
    const header = req.headers.authorization ?? '';
    const basic = basicCredentials(req);
    const caller = header.startsWith('Bearer ')
      ? resources.get(header.slice(7))
      : basic !== undefined && resourceClients.get(basic[0])?.secret === basic[1]
        ? resourceClients.get(basic[0])?.uri
        : undefined;
    const form = await readForm(req);
    if (caller === undefined) return json(res, 401, { error: 'invalid_client' });
    const token = form.get('token') ?? '';
    let payload;
    try {
      payload = await verifyOwnToken(token);
    } catch {
      return json(res, 200, { active: false });
    }
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (revoked.has(payload.jti ?? '') || !audiences.includes(caller)) return json(res, 200, { active: false });
    return json(res, 200, { active: true, token_type: 'Bearer', ...payload });
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counts.token++;
    const form = await readForm(req);
    tokenRequests.push(form);
    if (tokenGate) {
      tokenGate.arrived();
      await tokenGate.opened;
    }
    const client = await authenticateClient(req, form);
    if (form.get('grant_type') !== 'client_credentials' && grantHandler !== undefined) {
      const answer = await grantHandler(form, client);
      return json(res, answer.status, answer.body);
    }
    if (client === undefined) return json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    const scope = form.get('scope') ?? 'files:read';
    const resourcesRequested = form.getAll('resource');
    const aud = resourcesRequested.length === 0 ? resource : resourcesRequested.length === 1 ? resourcesRequested[0] : resourcesRequested;
    const now = Math.floor(Date.now() / 1000);
    const accessTokenValue = accessToken({
      sub: client.clientId,
      client_id: client.clientId,
      sub_profile: 'ai_agent',
      scope,
      aud,
      iat: now,
      exp: now + tokenTtlSeconds,
    });
    return json(res, 200, { access_token: accessTokenValue, token_type: 'Bearer', expires_in: tokenTtlSeconds, scope });
  }

  async function authenticateClient(req: IncomingMessage, form: URLSearchParams): Promise<TestClient | undefined> {
    const basic = basicCredentials(req);
    if (basic !== undefined) {
      const client = clients.get(basic[0]);
      return client?.secret !== undefined && client.secret === basic[1] ? client : undefined;
    }
    if (form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      const assertion = form.get('client_assertion') ?? '';
      const unverified = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString()) as { iss?: string };
      const client = clients.get(unverified.iss ?? '');
      if (client?.publicJwk === undefined) return undefined;
      try {
        // RFC 7523 §3: iss = sub = client_id, aud = the issuer or the token endpoint, exp required, jti present.
        const { payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: [client.publicJwk] }), {
          issuer: client.clientId,
          subject: client.clientId,
          audience: [issuer, endpoints.token_endpoint],
          requiredClaims: ['exp', 'jti'],
        });
        return payload.sub === client.clientId ? client : undefined;
      } catch {
        return undefined;
      }
    }
    const client = clients.get(form.get('client_id') ?? '');
    return client?.secret !== undefined && client.secret === form.get('client_secret') ? client : undefined;
  }

  return {
    issuer,
    origin,
    resource,
    endpoints,
    counts,
    tokenRequests,
    revocationRequests,
    /** Members to add to the metadata (undefined removes one); takes effect for clients that fetch it afterwards. */
    setMetadataExtra(extra: Record<string, unknown>) {
      metadataExtra = extra;
    },
    /** Programs the answers for grants other than client_credentials; undefined restores unsupported_grant_type. */
    setGrantHandler(handler: GrantHandler | undefined) {
      grantHandler = handler;
    },
    setRevocationStatus(status: number) {
      revocationStatus = status;
    },
    /** An ID token (`typ: JWT`) for `clientId`, signed with the ES256 key unless `init` says otherwise. */
    idToken(payload: Record<string, unknown>, init: { key?: TestKey; header?: Record<string, unknown> } = {}): string {
      const key = init.key ?? keyFor('ES256');
      const now = Math.floor(Date.now() / 1000);
      return signJws({ alg: key.alg, typ: 'JWT', kid: key.kid, ...init.header }, { iss: issuer, iat: now, exp: now + 300, ...payload }, key);
    },
    keys,
    createKey,
    keyFor,
    signJws,
    claims,
    accessToken,
    /** Publishes a key that was created unpublished (a rotation the verifier has not seen yet). */
    publish(key: TestKey) {
      key.published = true;
    },
    revoke(tokenValue: string) {
      const payload = JSON.parse(Buffer.from(tokenValue.split('.')[1] ?? '', 'base64url').toString()) as { jti: string };
      revoked.add(payload.jti);
    },
    /** Registers a resource server; returns its introspection API key (format `mrk_<id>.<secret>`). */
    addResource(uri: string): string {
      const apiKey = `mrk_${randomUUID().slice(0, 8)}.${createHash('sha256').update(randomUUID()).digest('base64url')}`;
      resources.set(apiKey, uri);
      return apiKey;
    },
    /** Registers a resource server that introspects with client credentials (HTTP Basic). */
    addResourceClient(clientId: string, secret: string, uri: string) {
      resourceClients.set(clientId, { secret, uri });
    },
    addClient(client: TestClient) {
      clients.set(client.clientId, client);
    },
    /** Makes the JWKS endpoint answer with this status (200 restores it). */
    setJwksStatus(status: number) {
      jwksStatus = status;
    },
    setTokenTtl(seconds: number) {
      tokenTtlSeconds = seconds;
    },
    /**
     * Holds the token endpoint's answers until `release()`: `arrived` resolves when a request is in and unanswered,
     * so a test can make requests overlap by that signal rather than by a delay.
     */
    holdTokenResponses(): { arrived: Promise<void>; release(): void } {
      let arrived!: () => void;
      let open!: () => void;
      const gate = { arrived: new Promise<void>((resolve) => (arrived = resolve)), opened: new Promise<void>((resolve) => (open = resolve)) };
      tokenGate = { arrived, opened: gate.opened };
      return {
        arrived: gate.arrived,
        release() {
          tokenGate = undefined;
          open();
        },
      };
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export type TestIssuer = Awaited<ReturnType<typeof startTestIssuer>>;
