import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { clientSecretBasic } from '../../packages/sdk/src/agent/index.ts';
import { TokenRequestFailed } from '../../packages/sdk/src/errors.ts';
import { getTxnToken, requireTxnToken as expressTxnToken } from '../../packages/sdk/src/middleware/express.ts';
import { mandateAuthPlugin, requireTxnToken as fastifyTxnToken } from '../../packages/sdk/src/middleware/fastify.ts';
import { requireTxnToken as honoTxnToken, type TxnTokenEnv } from '../../packages/sdk/src/middleware/hono.ts';
import { requireTxnToken as nodeTxnToken } from '../../packages/sdk/src/middleware/node.ts';
import { createTxnTokenClient, createTxnTokenVerifier, type TxnTokenContext, type TxnTokenGuardOptions, type TxnTokenVerifier } from '../../packages/sdk/src/txn-token/index.ts';
import { agentToken } from '../../packages/server/test/helpers/user-flow.ts';
import { decodeJwt, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';

/**
 * Issue 11 item 5, the SDK side of Transaction Tokens, against a real Mandate over HTTP on both stores: a gateway
 * (resource server, API key) and an agent request Txn-Tokens with `createTxnTokenClient`, a workload replaces one
 * (narrowing passes, widening is refused), and a backend built on each framework middleware (node:http, Express,
 * Hono, Fastify) accepts a valid `Txn-Token` header and exposes its context, and refuses (TT-11) a missing or
 * repeated header, an access token (wrong typ), another trust domain (wrong aud), an expired token, a bad
 * signature and a missing scope.
 */

const TRUST_DOMAIN = 'trust-domain.example';
type Body = Record<string, unknown>;

/** What each backend answers: the context the middleware exposed. */
const contextBody = (c: TxnTokenContext) => ({ txn: c.txn, subject: c.subject, scopes: c.scopes, requestingWorkload: c.requestingWorkload, tctx: c.tctx, rctx: c.rctx });

interface Backend {
  url: string;
  close(): Promise<void>;
}

/** Three routes on each framework: `/orders` (calc), `/admin` (exec, which the tokens lack), `/elsewhere` (another trust domain). */
type Guards = { orders: TxnTokenGuardOptions; admin: TxnTokenGuardOptions; elsewhere: TxnTokenGuardOptions };

const listening = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const closing = (server: Server) => () =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const frameworks: Record<string, (guards: Guards) => Promise<Backend>> = {
  'node:http': async (guards) => {
    const routes = Object.fromEntries(Object.entries(guards).map(([path, options]) => [`/${path}`, nodeTxnToken(options)]));
    const server = createServer(async (req, res) => {
      const context = await routes[req.url ?? '']!(req, res);
      if (context === undefined) return;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(contextBody(context)));
    }).listen(0, '127.0.0.1');
    return { url: await listening(server), close: closing(server) };
  },
  'Express 5': async (guards) => {
    const app = express();
    for (const [path, options] of Object.entries(guards)) app.post(`/${path}`, expressTxnToken(options), (req, res) => void res.json(contextBody(getTxnToken(req))));
    const server = app.listen(0, '127.0.0.1');
    return { url: await listening(server), close: closing(server) };
  },
  'Hono 4': async (guards) => {
    const app = new Hono<TxnTokenEnv>();
    for (const [path, options] of Object.entries(guards)) app.post(`/${path}`, honoTxnToken(options), (c) => c.json(contextBody(c.get('txnToken'))));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: closing(server as unknown as Server) };
  },
  'Fastify 5': async (guards) => {
    const app = Fastify();
    await app.register(mandateAuthPlugin);
    for (const [path, options] of Object.entries(guards)) app.post(`/${path}`, { preHandler: fastifyTxnToken(options) }, async (request) => contextBody(request.txnToken!));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
};

forEachStore('SDK: Transaction Tokens', (fixture) => {
  let server: TestServer;
  let n = 0;
  /** Added to the server's frozen clock by the verifiers only: lets a test see a token expire without moving the server. */
  let verifierSkewMs = 0;

  before(async () => {
    server = await startTestServer(fixture, { transactionTokens: { trustDomain: TRUST_DOMAIN, ttlSeconds: 60 } });
  });
  after(() => server.close());

  const verifierFor = (trustDomain: string): TxnTokenVerifier => createTxnTokenVerifier({ issuer: server.issuer, trustDomain, clock: () => server.clock.nowMs() + verifierSkewMs });

  /** A gateway and an agent, both allowed Txn-Tokens, and an access token of the agent whose audience is the gateway. */
  async function setting() {
    const gatewayUri = `https://gateway${++n}.example.com/api`;
    const gateway = (await (await server.admin('POST', '/resources', { resource: gatewayUri, scopes: ['calc', 'exec', 'files:read'], txn_tokens: true })).json()) as { api_key: string };
    const created = (await (await server.admin('POST', '/agents', { name: `txn agent ${n}`, scopes: ['calc', 'files:read'], audiences: [gatewayUri], txn_tokens: true })).json()) as { client_id: string; client_secret: string };
    const agent = { clientId: created.client_id, clientSecret: created.client_secret };
    const accessToken = await agentToken(server, agent, { resource: gatewayUri, scope: 'calc files:read' });
    const gatewayClient = createTxnTokenClient({ issuer: server.issuer, trustDomain: TRUST_DOMAIN, apiKey: gateway.api_key, clock: server.clock.nowMs });
    const agentClient = createTxnTokenClient({ issuer: server.issuer, trustDomain: TRUST_DOMAIN, clientAuthentication: clientSecretBasic(agent.clientId, agent.clientSecret), clock: server.clock.nowMs });
    return { gatewayUri, agent, accessToken, gatewayClient, agentClient };
  }

  test('TT-06, TT-09: createTxnTokenClient requests (gateway, agent) and replaces; a wider replacement is refused with invalid_scope', async () => {
    const s = await setting();
    const issued = await s.gatewayClient.request({ subjectToken: s.accessToken, scope: 'calc files:read', requestDetails: { action: 'BUY', ticker: 'MSFT' }, requestContext: { req_ip: '203.0.113.7' } });
    assert.deepEqual(issued.scope, ['calc', 'files:read']);
    assert.equal(issued.expiresAt, server.clock.now() + 60);
    const claims = decodeJwt(issued.txnToken).payload;
    assert.deepEqual([claims['req_wl'], claims['sub'], claims['aud']], [s.gatewayUri, s.agent.clientId, TRUST_DOMAIN]);

    const narrowed = await s.gatewayClient.replace({ txnToken: issued.txnToken, scope: 'calc', requestDetails: { action: 'BUY' } });
    assert.deepEqual(narrowed.scope, ['calc']);
    assert.equal(decodeJwt(narrowed.txnToken).payload['txn'], claims['txn']);

    await assert.rejects(s.gatewayClient.replace({ txnToken: narrowed.txnToken, scope: 'calc files:read' }), (err: unknown) => {
      assert.ok(err instanceof TokenRequestFailed);
      assert.deepEqual([err.code, err.status, err.error, err.errorDescription], ['ERR_TOKEN_REQUEST_FAILED', 400, 'invalid_scope', "scope files:read exceeds the Txn-Token's scope (calc): a replacement never widens it"]);
      return true;
    });

    const own = await s.agentClient.request({ subjectToken: s.accessToken, scope: 'files:read' });
    assert.equal(decodeJwt(own.txnToken).payload['req_wl'], s.agent.clientId);
    assert.throws(() => createTxnTokenClient({ issuer: server.issuer, trustDomain: TRUST_DOMAIN } as never), TypeError);
  });

  for (const [framework, start] of Object.entries(frameworks)) {
    describe(`requireTxnToken middleware: ${framework}`, () => {
      let backend: Backend;
      let s: Awaited<ReturnType<typeof setting>>;
      let txnToken: string;

      before(async () => {
        const verifier = verifierFor(TRUST_DOMAIN);
        backend = await start({
          orders: { verifier, requiredScopes: ['calc'] },
          admin: { verifier, requiredScopes: ['exec'] },
          elsewhere: { verifier: verifierFor('other-domain.example') },
        });
        s = await setting();
        txnToken = (await s.gatewayClient.request({ subjectToken: s.accessToken, scope: 'calc', requestDetails: { action: 'BUY' } })).txnToken;
      });
      after(() => backend.close());

      const call = async (path: string, headers: [string, string][] = []) => {
        const h = new Headers();
        for (const [name, value] of headers) h.append(name, value);
        const response = await fetch(`${backend.url}/${path}`, { method: 'POST', headers: h });
        return { status: response.status, body: (await response.json()) as Body };
      };

      test('TT-11: a valid Txn-Token header is accepted and its context reaches the handler', async () => {
        const ok = await call('orders', [['Txn-Token', txnToken]]);
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        const claims = decodeJwt(txnToken).payload;
        assert.deepEqual(ok.body, {
          txn: claims['txn'],
          subject: s.agent.clientId,
          scopes: ['calc'],
          requestingWorkload: s.gatewayUri,
          tctx: { action: 'BUY' },
          rctx: { req_ip: '127.0.0.1', req_wl_chain: [s.gatewayUri] },
        });
      });

      test('TT-11: refused: no header, two tokens, an access token (typ), another trust domain (aud), expired, bad signature, missing scope', async () => {
        const refusal = (r: { status: number; body: Body }) => [r.status, r.body['error'], r.body['error_description']];
        assert.deepEqual(refusal(await call('orders')), [400, 'invalid_request', 'no Txn-Token header was presented']);
        assert.deepEqual(refusal(await call('orders', [['Txn-Token', txnToken], ['Txn-Token', txnToken]])), [400, 'invalid_request', 'more than one Txn-Token was presented']);
        assert.deepEqual(refusal(await call('orders', [['Txn-Token', s.accessToken]])), [403, 'invalid_txn_token', 'token typ "at+jwt" is not txntoken+jwt']);
        assert.deepEqual(refusal(await call('elsewhere', [['Txn-Token', txnToken]])), [403, 'invalid_txn_token', 'the token was not issued for this resource']);
        const [header, payload, signature] = txnToken.split('.') as [string, string, string];
        const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
        assert.deepEqual(refusal(await call('orders', [['Txn-Token', forged]])), [403, 'invalid_txn_token', 'signature verification failed']);
        const swapped = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(txnToken).payload, scope: 'calc exec' })).toString('base64url')}.${signature}`;
        assert.deepEqual(refusal(await call('admin', [['Txn-Token', swapped]])), [403, 'invalid_txn_token', 'signature verification failed'], 'a widened payload does not verify');
        assert.deepEqual(refusal(await call('admin', [['Txn-Token', txnToken]])), [403, 'insufficient_scope', 'missing scope: exec']);
        // 60 s of life plus the default 30 s of tolerance: expired for the verifiers, with the server's clock untouched.
        verifierSkewMs = 91_000;
        try {
          assert.deepEqual(refusal(await call('orders', [['Txn-Token', txnToken]])), [403, 'invalid_txn_token', 'the token has expired']);
        } finally {
          verifierSkewMs = 0;
        }
        assert.equal((await call('orders', [['Txn-Token', txnToken]])).status, 200, 'and accepted again at the right time');
      });
    });
  }
});
