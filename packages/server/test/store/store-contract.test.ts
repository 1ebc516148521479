import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import type { AuditAnchor, AuditRow, ClientRecord, SigningKeyRecord, Store } from '../../src/store/store.ts';
import { StoreConflictError } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

function agent(clientId: string, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId,
    kind: 'agent',
    name: `agent ${clientId}`,
    description: null,
    owner: 'owner@example.com',
    status: 'active',
    allowedScopes: ['calc', 'files:read'],
    defaultScopes: ['calc'],
    allowedAudiences: ['https://mcp.example.com/mcp'],
    txnTokensAllowed: false,
    accessTokenTtlSeconds: null,
    tokenEndpointAuthMethod: 'client_secret_basic',
    secretHash: 'a'.repeat(64),
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    jwks: null,
    redirectUris: [],
    grantTypes: ['client_credentials'],
    tokensValidAfter: 0,
    createdAt: 1000,
    updatedAt: 1000,
    ...overrides,
  };
}

function key(kid: string): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid },
    privateKeyEncrypted: 'v1.encrypted',
    externalKeyRef: null,
    status: 'active',
    createdAt: 1000,
    retiredAt: null,
    activatesAt: null,
    publishUntil: null,
  };
}

forEachStore('store contract', (fixture) => {
  let store: Store;
  beforeEach(() => {
    store = fixture.store;
  });

  test('migrate twice applies nothing the second time', async () => {
    assert.deepEqual(await store.migrate(), []);
  });

  test('clients: create, read back every field, list by kind, update, delete', async () => {
    const record = agent('agt_one', {
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] },
      accessTokenTtlSeconds: 300,
      dpopBoundAccessTokens: true,
      requirePushedAuthorizationRequests: true,
      backchannelTokenDeliveryMode: 'ping',
      backchannelClientNotificationEndpoint: 'https://agent.example.com/ciba',
    });
    await store.createClient(record);
    await store.createClient({ ...agent('app_one'), kind: 'app', redirectUris: ['https://app.example.com/cb'] });
    assert.deepEqual(await store.getClient('agt_one'), record);
    assert.equal(await store.getClient('missing'), null);
    assert.equal((await store.updateClient('agt_one', { txnTokensAllowed: true }))?.txnTokensAllowed, true, 'the Txn-Token permission round-trips');
    assert.deepEqual((await store.listClients({ kind: 'agent' })).map((c) => c.clientId), ['agt_one']);
    assert.equal((await store.listClients()).length, 2);

    const updated = await store.updateClient('agt_one', { status: 'disabled', tokensValidAfter: 2000, allowedScopes: ['calc'] });
    assert.equal(updated?.status, 'disabled');
    assert.equal(updated?.tokensValidAfter, 2000);
    assert.deepEqual(updated?.allowedScopes, ['calc']);
    assert.equal(await store.updateClient('missing', { status: 'disabled' }), null);

    assert.equal(await store.deleteClient('app_one', 1000), true);
    assert.equal(await store.deleteClient('app_one', 1000), false);
  });

  test('clients: a duplicate id is a StoreConflictError', async () => {
    await store.createClient(agent('agt_dup'));
    await assert.rejects(store.createClient(agent('agt_dup')), StoreConflictError);
  });

  test('resources: unique URI, lookup by URI and by API key id', async () => {
    const resource = {
      id: 'res_1',
      uri: 'https://mcp.example.com/mcp',
      name: 'MCP',
      txnTokensAllowed: false,
      scopes: [{ name: 'calc', description: null, risk: 'low' as const }],
      defaultScopes: ['calc'], downstreamResources: [],
      apiKeyId: 'key1',
      apiKeyHash: 'b'.repeat(64),
      previousApiKeyId: null,
      previousApiKeyHash: null,
      previousApiKeyExpiresAt: null,
      apiKeySince: 0,
      previousApiKeySince: null,
      createdAt: 1,
      updatedAt: 1,
    };
    await store.createResource(resource);
    await assert.rejects(store.createResource({ ...resource, id: 'res_2', apiKeyId: 'key2' }), StoreConflictError);
    assert.deepEqual(await store.getResourceByUri(resource.uri), resource);
    assert.deepEqual(await store.getResourceByApiKeyId('key1'), resource);
    const renamed = await store.updateResource('res_1', { name: 'Renamed', defaultScopes: [], downstreamResources: ['https://downstream.example/mcp'], updatedAt: 2 });
    assert.equal(renamed?.name, 'Renamed');
    assert.deepEqual(renamed?.defaultScopes, []);
    assert.deepEqual((await store.getResourceByUri(resource.uri))?.downstreamResources, ['https://downstream.example/mcp'], 'a gateway allowance round-trips');
    assert.equal(await store.setResourceTxnTokensAllowed('res_1', true, 3), true);
    assert.equal((await store.getResourceByUri(resource.uri))?.txnTokensAllowed, true, 'the Txn-Token permission round-trips');
    assert.equal(await store.setResourceTxnTokensAllowed('res_missing', true, 3), false);
    const rotated = await store.updateResource('res_1', { apiKeyId: 'key3', apiKeyHash: 'c'.repeat(64), previousApiKeyId: 'key1', previousApiKeyHash: 'b'.repeat(64), previousApiKeyExpiresAt: 5 });
    assert.equal((await store.getResourceByApiKeyId('key1'))?.id, 'res_1', 'found by its previous key too');
    assert.equal((await store.getResourceByApiKeyId('key3'))?.previousApiKeyExpiresAt, 5);
    assert.equal(rotated?.apiKeyId, 'key3');
    assert.equal((await store.listResources()).length, 1);
    assert.equal(await store.deleteResource('res_1', 1000), true);
  });

  test('admin tokens: revoke once', async () => {
    await store.createAdminToken({ id: 'adm1', name: 'ops', role: 'admin', userId: null, secretHash: 'c'.repeat(64), createdAt: 1, revokedAt: null });
    assert.equal(await store.revokeAdminToken('adm1', 5), true);
    assert.equal(await store.revokeAdminToken('adm1', 6), false);
    assert.equal((await store.getAdminToken('adm1'))?.revokedAt, 5);
  });

  test('signing keys: one active key even when two starts race; rotation retires it', async () => {
    const results = await Promise.all([store.insertFirstActiveKey(key('k1')), store.insertFirstActiveKey(key('k2'))]);
    assert.deepEqual(results.sort(), [false, true]);
    const first = (await store.listSigningKeys()).find((k) => k.status === 'active');
    assert.ok(first);
    assert.equal(await store.rotateActiveKey(key('k3'), 5000, 9000, 5000), true);
    const keys = await store.listSigningKeys();
    assert.deepEqual(
      keys.map((k) => [k.kid, k.status, k.publishUntil]).sort(),
      [[first.kid, 'retired', 9000], ['k3', 'active', null]].sort(),
    );
  });

  test('SR-08 signing keys: a rotation published ahead records when the new key signs; another is refused until then', async () => {
    await store.insertFirstActiveKey(key('k1'));
    assert.equal(await store.rotateActiveKey({ ...key('k2'), activatesAt: 1600 }, 1600, 9000, 1000), true);
    assert.equal(await store.rotateActiveKey({ ...key('k3'), activatesAt: 1700 }, 1700, 9000, 1599), false, 'k2 does not sign yet');
    const byKid = new Map((await store.listSigningKeys()).map((k) => [k.kid, k]));
    assert.deepEqual([byKid.get('k1')?.status, byKid.get('k1')?.retiredAt, byKid.get('k2')?.status, byKid.get('k2')?.activatesAt, byKid.has('k3')], ['retired', 1600, 'active', 1600, false]);
    assert.equal(await store.rotateActiveKey({ ...key('k3'), activatesAt: 1600 }, 1600, 9000, 1600), true, 'once k2 signs, the next rotation may start');
  });

  test('revocations and replay markers expire and are purged', async () => {
    await store.revokeTokenId('jti-1', 100, 1);
    await store.revokeTokenId('jti-1', 100, 1);
    assert.equal(await store.isTokenIdRevoked('jti-1'), true);
    assert.equal(await store.isTokenIdRevoked('jti-2'), false);
    assert.equal(await store.consumeOnce('assertion:1', 100, 50), true);
    assert.equal(await store.consumeOnce('assertion:1', 100, 60), false);
    assert.equal(await store.consumeOnce('assertion:1', 300, 150), true, 'an expired marker no longer counts as a replay');
    assert.equal(await store.purgeExpired(200), 2, 'the revocation and its revocation event');
    assert.equal(await store.isTokenIdRevoked('jti-1'), false);
  });

  test('transaction tokens: a row reads back with its root claims and workloads, and is purged once expired', async () => {
    const record = {
      jti: 'txn-jti-1',
      txn: 'txn-1',
      rootClaims: { sub: 'usr_1', client_id: 'app_1', jti: 'at-1', act: { sub: 'agt_1' }, scope: 'calc' },
      workloads: [{ kind: 'resource' as const, id: 'https://gw.example/api' }, { kind: 'agent' as const, id: 'agt_1' }],
      createdAt: 10,
      expiresAt: 130,
    };
    await store.recordTransactionToken(record);
    assert.deepEqual(await store.getTransactionToken('txn-jti-1'), record);
    assert.equal(await store.getTransactionToken('txn-jti-2'), null);
    await store.purgeExpired(129);
    assert.deepEqual(await store.getTransactionToken('txn-jti-1'), record, 'not before its expiry');
    await store.purgeExpired(131);
    assert.equal(await store.getTransactionToken('txn-jti-1'), null);
  });

  test('audit: concurrent appends extend one chain without gaps and move the anchor with it; filters work', async () => {
    const row = (head: { seq: number; hash: string }, i: number, event: string): AuditRow => ({
      seq: head.seq + i + 1,
      tsMs: 1000 + head.seq + i,
      event,
      actor: 'cli',
      subject: null,
      clientId: i % 2 ? 'agt_a' : 'agt_b',
      ip: null,
      detail: { n: i, nested: { z: 1, a: [1, 2] } },
      prevHash: i === 0 ? head.hash : `h${head.seq + i}`,
      hash: `h${head.seq + i + 1}`,
    });
    await Promise.all(
      Array.from({ length: 5 }, (_, batch) =>
        store.appendAuditRows(({ anchor }) => {
          const head = anchor!;
          const rows = Array.from({ length: 3 }, (_, i) => row(head, i, batch % 2 ? 'token.issued' : 'agent.created'));
          return { rows, anchor: { seq: head.seq + 3, hash: rows[2]!.hash, keyedFromSeq: head.keyedFromSeq, mac: `m${head.seq + 3}` } };
        }),
      ),
    );
    const rows = await store.listAuditRows({ limit: 100 });
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]?.prevHash, rows[i - 1]?.hash);
    assert.deepEqual(rows[0]?.detail, { n: 0, nested: { z: 1, a: [1, 2] } });
    assert.deepEqual(await store.auditChainState(), { anchor: { seq: 15, hash: 'h15', keyedFromSeq: 1, mac: 'm15' }, lastRow: { seq: 15, hash: 'h15' } });
    assert.equal((await store.listAuditRows({ event: 'token.*', limit: 100 })).length, 6);
    assert.ok((await store.listAuditRows({ clientId: 'agt_a', limit: 100 })).every((r) => r.clientId === 'agt_a'));
    assert.deepEqual((await store.listAuditRows({ afterSeq: 13, limit: 100 })).map((r) => r.seq), [14, 15]);
    assert.deepEqual((await store.listAuditRows({ descending: true, limit: 2 })).map((r) => r.seq), [15, 14]);
  });

  test('audit: an append after a head writes only while that head is the chain\'s; racing writers, locked or not, keep one chain', async () => {
    const batch = (head: AuditAnchor, count: number, event = 'token.issued') => {
      const rows: AuditRow[] = Array.from({ length: count }, (_, i) => ({
        seq: head.seq + i + 1,
        tsMs: 2000 + head.seq + i,
        event,
        actor: 'agt_\'"\\ é 😀',
        subject: null,
        clientId: 'agt_a',
        ip: '::1',
        detail: { quote: 'a"b\'c\\d', unicode: 'ü → 😀', n: i },
        prevHash: i === 0 ? head.hash : `h${head.seq + i}`,
        hash: `h${head.seq + i + 1}`,
      }));
      return { rows, anchor: { seq: head.seq + count, hash: rows.at(-1)!.hash, keyedFromSeq: head.keyedFromSeq, mac: `m${head.seq + count}` } };
    };
    await store.appendAuditRows(({ anchor }) => batch(anchor!, 2));
    const head = (await store.auditChainState()).anchor!;
    assert.deepEqual(await store.appendAuditRowsAfter(head, batch(head, 3)), { appended: true });
    const rows = await store.listAuditRows({ limit: 100 });
    assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.deepEqual(rows[4], batch(head, 3).rows[2], 'every column as written, text exactly');
    const moved = { anchor: { seq: 5, hash: 'h5', keyedFromSeq: 1, mac: 'm5' }, lastRow: { seq: 5, hash: 'h5' } };
    assert.deepEqual(await store.auditChainState(), moved);
    assert.deepEqual(await store.appendAuditRowsAfter(head, batch(head, 1)), { appended: false, state: moved }, 'a stale head writes nothing');
    assert.deepEqual(await store.appendAuditRowsAfter({ ...moved.anchor, mac: 'forged' }, batch(moved.anchor, 1)), { appended: false, state: moved });
    // Writers that each retry on the head they are told, and writers under the append lock, all at once.
    const unlocked = async (count: number) => {
      let at = (await store.auditChainState()).anchor!;
      for (;;) {
        const result = await store.appendAuditRowsAfter(at, batch(at, count, 'unlocked'));
        if (result.appended) return;
        at = result.state.anchor!;
      }
    };
    await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => unlocked(i + 1)),
      ...Array.from({ length: 3 }, () => store.appendAuditRows(({ anchor }) => batch(anchor!, 2, 'locked'))),
    ]);
    const all = await store.listAuditRows({ limit: 100 });
    assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 5 + 21 + 6 }, (_, i) => i + 1));
    for (let i = 1; i < all.length; i++) assert.equal(all[i]!.prevHash, all[i - 1]!.hash);
    assert.equal(all.filter((r) => r.event === 'unlocked').length, 21);
    assert.deepEqual((await store.auditChainState()).anchor, { seq: 32, hash: 'h32', keyedFromSeq: 1, mac: 'm32' });
  });
}, { databasePer: 'test' });
