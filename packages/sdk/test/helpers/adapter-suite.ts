/**
 * The same wire-level checks (RFC 6750 BR-01..04, RFC 9728 metadata) run against every framework adapter, each
 * started as a real server on port 0 and called over HTTP. Each adapter's test file supplies a factory that mounts
 * GET /files (files:read), POST /files (files:write) and the metadata handler, and answers with the AuthInfo it
 * finds where that framework's users expect it.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DpopProver } from '../../src/dpop/prover.ts';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import type { Verifier } from '../../src/verify/create-verifier.ts';
import type { ProtectedResourceMetadataOptions } from '../../src/metadata/protected-resource.ts';
import { startTestIssuer } from './test-issuer.ts';
import type { TestIssuer } from './test-issuer.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** What a 401 without credentials offers next to Bearer (RFC 9449 §7.1): the resource accepts DPoP. */
const DPOP_OFFER = `DPoP algs="${JWS_ALGORITHMS.join(' ')}"`;

export interface AdapterApp {
  url: string;
  close(): Promise<void>;
}

export interface AdapterSetup {
  verifier: Verifier;
  metadata: ProtectedResourceMetadataOptions;
}

export const metadataUrl = 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp';

/** Sends a request with raw header pairs, so a header can be repeated (fetch would merge them). */
export function rawRequest(url: string, method: string, headers: string[]): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    // With raw header pairs node sends no Host of its own, and HTTP/1.1 servers refuse a request without one.
    const req = httpRequest(url, { method, headers: ['Host', new URL(url).host, ...headers] }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function runAdapterSuite(name: string, start: (setup: AdapterSetup) => Promise<AdapterApp>, features: { formBody: boolean }): void {
  describe(`${name} adapter`, () => {
    let as: TestIssuer;
    let app: AdapterApp;
    before(async () => {
      as = await startTestIssuer();
      const verifier = createVerifier({ issuer: as.issuer, audience: as.resource });
      app = await start({
        verifier,
        metadata: {
          resource: as.resource,
          authorizationServers: [as.issuer],
          scopesSupported: ['files:read', 'files:write', 'offline_access'],
          resourceName: 'Files "test" server',
        },
      });
    });
    after(async () => {
      await app.close();
      await as.close();
    });
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const prover = DpopProver.generate();

    test('BR-01 no token → 401 with resource_metadata and no error', async () => {
      const res = await fetch(`${app.url}/files`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), `Bearer scope="files:read", resource_metadata="${metadataUrl}", ${DPOP_OFFER}`);
    });

    test('BR-01 a non-Bearer scheme counts as no token → 401 with no error', async () => {
      const res = await fetch(`${app.url}/files`, { headers: { authorization: 'Basic YTpi' } });
      assert.equal(res.status, 401);
      assert.doesNotMatch(res.headers.get('www-authenticate') ?? '', /error=/);
    });

    test('BR-02 an invalid token → 401 error="invalid_token", naming the scopes to ask for again', async () => {
      for (const token of [as.accessToken({ exp: 1_000_000, iat: 999_000 }), as.accessToken({ aud: 'https://other.example.test' }), 'not-a-jwt']) {
        const res = await fetch(`${app.url}/files`, { headers: bearer(token) });
        assert.equal(res.status, 401);
        const challenge = res.headers.get('www-authenticate') ?? '';
        assert.match(challenge, /^Bearer error="invalid_token", error_description="[^"]+", scope="files:read", resource_metadata="/);
        assert.equal((await res.json() as { error: string }).error, 'invalid_token');
      }
    });

    test('DP-20 a DPoP-bound token presented as Bearer → 401 with a DPoP invalid_token challenge naming the algorithms', async () => {
      const res = await fetch(`${app.url}/files`, { headers: bearer(as.accessToken({ cnf: { jkt: prover.jkt } })) });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token", error_description="[^"]+", resource_metadata="[^"]+", algs="ES256 [^"]*EdDSA/);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
    });

    // Proofs name the resource's public origin (its audience's) with the request's path, whatever host the app listens on.
    const htu = `${new URL(metadataUrl).origin}/files`;
    const dpop = (token: string, proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof });

    test('DPoP: a bound token with a proof of its key for this request → 200', async () => {
      const token = as.accessToken({ cnf: { jkt: prover.jkt }, scope: 'files:read' });
      const res = await fetch(`${app.url}/files`, { headers: dpop(token, prover.proof('GET', htu, token)) });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { subject: string }).subject, 'usr_alice');
    });

    test('DP-15 DPoP: a replayed proof → 401 invalid_dpop_proof', async () => {
      const token = as.accessToken({ cnf: { jkt: prover.jkt }, scope: 'files:read' });
      const proof = prover.proof('GET', htu, token);
      assert.equal((await fetch(`${app.url}/files`, { headers: dpop(token, proof) })).status, 200);
      const replay = await fetch(`${app.url}/files`, { headers: dpop(token, proof) });
      assert.equal(replay.status, 401);
      assert.match(replay.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof", error_description="the DPoP proof was used before"/);
    });

    test('DP-13 DPoP: a proof for another URL or method, without ath, of another key, or none → 401 invalid_dpop_proof', async () => {
      const token = as.accessToken({ cnf: { jkt: prover.jkt }, scope: 'files:read' });
      const other = DpopProver.generate();
      for (const [proof, reason] of [
        [prover.proof('GET', `${new URL(metadataUrl).origin}/other`, token), /another URL/],
        [prover.proof('POST', htu, token), /method POST/],
        [prover.proof('GET', htu), /ath/],
        [other.proof('GET', htu, token), /not the key the token is bound to/],
      ] as const) {
        const res = await fetch(`${app.url}/files`, { headers: dpop(token, proof) });
        assert.equal(res.status, 401);
        const challenge = res.headers.get('www-authenticate') ?? '';
        assert.match(challenge, /^DPoP error="invalid_dpop_proof"/);
        assert.match(challenge, reason);
      }
      const none = await fetch(`${app.url}/files`, { headers: { authorization: `DPoP ${token}` } });
      assert.match(none.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof"/);
    });

    test('DPoP: an unbound token sent with the DPoP scheme → 401 invalid_token (Bearer challenge)', async () => {
      const token = as.accessToken({ scope: 'files:read' });
      const res = await fetch(`${app.url}/files`, { headers: dpop(token, prover.proof('GET', htu, token)) });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token", error_description="the token is not DPoP-bound/);
    });

    test('BR-03 missing scope → 403 error="insufficient_scope" naming the needed scope, then the resource scopes held (not openid)', async () => {
      const res = await fetch(`${app.url}/files`, { method: 'POST', headers: bearer(as.accessToken({ scope: 'openid files:read' })) });
      assert.equal(res.status, 403);
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer error="insufficient_scope", error_description="missing scope: files:write", scope="files:write files:read", resource_metadata="${metadataUrl}"`,
      );
    });

    test('BR-04 token in the header and in the query → 400 invalid_request', async () => {
      const token = as.accessToken();
      const res = await fetch(`${app.url}/files?access_token=${token}`, { headers: bearer(token) });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
      const onlyQuery = await fetch(`${app.url}/files?access_token=${token}`);
      assert.equal(onlyQuery.status, 400);
    });

    test('BR-04 Authorization header sent twice → 400 invalid_request', async () => {
      const token = as.accessToken();
      const res = await rawRequest(`${app.url}/files`, 'GET', ['Authorization', `Bearer ${token}`, 'Authorization', `Bearer ${token}`]);
      assert.equal(res.status, 400);
      assert.match(String(res.headers['www-authenticate']), /error="invalid_request"/);
    });

    if (features.formBody) {
      test('BR-04 token in the header and in a form body → 400 invalid_request', async () => {
        const token = as.accessToken({ scope: 'files:write' });
        const res = await fetch(`${app.url}/files`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ access_token: token }).toString(),
        });
        assert.equal(res.status, 400);
      });
    }

    test('a valid token reaches the handler, which reads AuthInfo where the framework keeps it', async () => {
      const act = { sub: 'agt_writer', sub_profile: 'ai_agent', client_id: 'agt_writer' };
      const res = await fetch(`${app.url}/files`, { headers: bearer(as.accessToken({ act, scope: 'files:read' })) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { subject: 'usr_alice', agentId: 'agt_writer', scopes: ['files:read'] });
      const write = await fetch(`${app.url}/files`, { method: 'POST', headers: bearer(as.accessToken({ scope: 'files:write' })) });
      assert.equal(write.status, 200);
    });

    test('RFC 9728 metadata is served at the path-inserted and the root well-known URL', async () => {
      for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
        const res = await fetch(`${app.url}${path}`);
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        assert.deepEqual(await res.json(), {
          resource: as.resource,
          authorization_servers: [as.issuer],
          bearer_methods_supported: ['header'],
          scopes_supported: ['files:read', 'files:write'],
          resource_name: 'Files "test" server',
        });
      }
    });
  });
}
