import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { createVerifier } from '@mandate/sdk/verify';
import { MandateError } from '@mandate/sdk/errors';
import type { FuzzWorld } from './fuzz-world.ts';
import { type FuzzRequest, type FuzzTarget, httpTarget, OracleFailure, send, checkResponse } from './fuzz-harness.ts';
import { hostileJwt, hostileText } from './hostile-jwt.ts';

/**
 * JSON documents and tokens read by parsers: registration metadata (RFC 7591), admin API bodies, Client ID Metadata
 * Documents served by a local HTTP server, and access tokens at a resource through the SDK verifier.
 */

const jsonLeaf = fc.oneof(hostileText, fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom('https://app.example.com/callback', 'https://app.ex\u0430mple.com/cb', 'http://localhost/cb', 'calc', 'ｃａｌｃ', 'none', 'private_key_jwt', 'client_secret_basic'));
const jsonValue = fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), jsonLeaf, { maxKeys: 3 }));

/** A JSON object: valid members with some replaced, written raw with the same tricks as a JWT header. */
function hostileObject(valid: Record<string, unknown>, names: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.dictionary(fc.oneof(fc.constantFrom(...names, ...Object.keys(valid)), hostileText), jsonValue, { maxKeys: 4 }), fc.nat(9))
    .map(([changes, trick]) => {
      const json = JSON.stringify({ ...valid, ...changes });
      const inner = json.slice(1, -1);
      const key = Object.keys(valid)[0] ?? 'x';
      switch (trick) {
        case 0: return `{${inner},"${key}":"duplicate"}`;
        case 1: return `{${inner},"deep":${'['.repeat(4000)}${']'.repeat(4000)}}`;
        case 2: return `{${inner},"big":"${'A'.repeat(100_000)}"}`;
        case 3: return `{"__proto__":{"admin":true},${inner}}`;
        case 4: return [`${json},`, '[]', 'null', '"x"', `${json}\u0000`, '{'][inner.length % 6]!;
        default: return json;
      }
    });
}

const REGISTRATION_NAMES = ['redirect_uris', 'client_name', 'token_endpoint_auth_method', 'grant_types', 'response_types', 'scope', 'jwks', 'jwks_uri', 'software_statement', 'client_uri', 'logo_uri', 'contacts', 'tos_uri', 'policy_uri'];
const ADMIN_NAMES = ['name', 'description', 'owner', 'scopes', 'audiences', 'access_token_ttl_seconds', 'token_endpoint_auth_method', 'jwks', 'resource', 'redirect_uris', 'email', 'public', 'require_par', 'role'];

const json = (path: string, headers: Record<string, string> = {}) => (body: string): FuzzRequest => ({ method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body });

/** Serves each Client ID Metadata Document at its own path, so every input is a fresh fetch (no cache hit). */
export class DocumentServer {
  #documents = new Map<string, { type: string; body: string }>();
  #next = 0;
  #server: Server | undefined;
  origin = '';
  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const doc = this.#documents.get(req.url ?? '');
      this.#documents.delete(req.url ?? '');
      if (!doc) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': doc.type }).end(doc.body);
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://localhost:${(this.#server.address() as AddressInfo).port}`;
  }
  /** Publishes a document and returns its URL (the client_id). */
  publish(body: (clientId: string) => string, type: string): string {
    const path = `/client/${this.#next++}`;
    const clientId = `${this.origin}${path}`;
    this.#documents.set(path, { type, body: body(clientId) });
    return clientId;
  }
  close(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

export function documentTargets(documents: DocumentServer): FuzzTarget<any>[] {
  return [
    httpTarget('registration-metadata', 'oauth', () =>
      hostileObject({ redirect_uris: ['https://app.example.com/callback'], client_name: 'fuzz', token_endpoint_auth_method: 'none' }, REGISTRATION_NAMES).map(json('/register')),
    ),
    httpTarget('admin-api', 'admin', (w) =>
      fc.tuple(fc.constantFrom('agents', 'clients', 'resources', 'users', 'admin-tokens'), hostileObject({ name: 'fuzz' }, ADMIN_NAMES), fc.constantFrom('POST', 'PATCH'), fc.constantFrom('', '/x', '/%00'))
        .map(([kind, body, method, id]) => ({ ...json(`/admin/v1/${kind}${method === 'PATCH' ? id || '/x' : ''}`, { authorization: `Bearer ${w.server.adminToken}` })(body), method })),
    ),
    {
      name: 'cimd-document',
      inputs: () => fc.tuple(hostileObject({ client_name: 'fuzz', redirect_uris: ['https://app.example.com/callback'], token_endpoint_auth_method: 'none' }, REGISTRATION_NAMES),
        fc.constantFrom('application/json', 'text/html', 'application/json; charset=utf-16', ''), fc.boolean()),
      async run(w: FuzzWorld, [doc, type, ownId]: [string, string, boolean]) {
        // Most documents name their own URL as client_id, as the spec requires, so the checks after that one are reached.
        const clientId = documents.publish((id) => (ownId && doc.startsWith('{"') ? `{"client_id":${JSON.stringify(id)},${doc.slice(1)}` : doc), type);
        const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: 'https://app.example.com/callback', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', scope: 'calc', state: 's' });
        const request = { method: 'GET', path: `/authorize?${query}`, headers: {} };
        return checkResponse('page', request, await send(w.server.issuer, request));
      },
    },
    {
      name: 'sdk-verifier',
      inputs: (w: FuzzWorld) => {
        const kid = JSON.parse(Buffer.from(w.agentToken.split('.')[0]!, 'base64url').toString()).kid as string;
        const claims = JSON.parse(Buffer.from(w.agentToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
        const damaged = fc.constantFrom(w.agentToken, `${w.agentToken}=`, w.agentToken.slice(0, -2), `${w.agentToken}.x`, w.agentToken.replace(/\.[^.]*\./, '.e30.'));
        return fc.oneof(damaged, hostileJwt({ ...w.forger, kid }, () => ({ header: { alg: 'ES256', typ: 'at+jwt', kid }, payload: { ...claims } })));
      },
      async run(w: FuzzWorld, token: string) {
        verifiers.get(w) ?? verifiers.set(w, createVerifier({ issuer: w.server.issuer, audience: 'https://mcp.example.com/mcp', clock: () => w.server.clock.nowMs() }));
        try {
          await verifiers.get(w)!.verify(token);
          return 'accepted';
        } catch (err) {
          if (!(err instanceof MandateError)) throw new OracleFailure(`the verifier threw ${String(err).slice(0, 300)} (not a MandateError) for ${token.slice(0, 200)}`);
          return 'refused';
        }
      },
    },
  ];
}

const verifiers = new WeakMap<FuzzWorld, ReturnType<typeof createVerifier>>();
