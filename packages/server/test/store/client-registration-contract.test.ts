import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientRecord, ClientRegistrationRecord } from '../../src/store/store.ts';
import { StoreConflictError } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

function app(clientId: string, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId,
    kind: 'app',
    name: `app ${clientId}`,
    description: null,
    owner: null,
    status: 'active',
    allowedScopes: ['calc'],
    defaultScopes: [],
    allowedAudiences: [],
    accessTokenTtlSeconds: null,
    tokenEndpointAuthMethod: 'none',
    secretHash: null,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    jwks: null,
    redirectUris: ['http://127.0.0.1/cb'],
    grantTypes: ['authorization_code'],
    tokensValidAfter: 0,
    createdAt: 1000,
    updatedAt: 1000,
    ...overrides,
  };
}

function registration(clientId: string, overrides: Partial<ClientRegistrationRecord> = {}): ClientRegistrationRecord {
  return { clientId, source: 'dynamic', registrationTokenHash: 'b'.repeat(64), metadata: { client_name: 'x' }, documentExpiresAt: null, createdAt: 1000, updatedAt: 1000, ...overrides };
}

/** The record family of self-registered clients (issue 9), on both stores. */
forEachStore('store contract: client registrations', (fixture) => {
  test('createRegisteredClient writes the client and its registration together; a taken id writes neither', async () => {
    const { store } = fixture;
    await store.createRegisteredClient(app('app_reg1'), registration('app_reg1'));
    assert.equal((await store.getClient('app_reg1'))?.name, 'app app_reg1');
    assert.deepEqual(await store.getClientRegistration('app_reg1'), registration('app_reg1'));
    await assert.rejects(store.createRegisteredClient(app('app_reg1', { name: 'other' }), registration('app_reg1', { registrationTokenHash: 'c'.repeat(64) })), StoreConflictError);
    assert.equal((await store.getClientRegistration('app_reg1'))?.registrationTokenHash, 'b'.repeat(64));
    assert.equal(await store.getClientRegistration('app_none'), null);
    // The registration goes with its client.
    await store.deleteClient('app_reg1', 1000);
    assert.equal(await store.getClientRegistration('app_reg1'), null);
  });

  test('saveMetadataDocumentClient inserts, then replaces the document’s fields but keeps status, tokensValidAfter and creation', async () => {
    const { store } = fixture;
    const url = 'https://client.example/doc.json';
    const first = await store.saveMetadataDocumentClient(app(url), registration(url, { source: 'metadata_document', registrationTokenHash: null, documentExpiresAt: 1060 }));
    assert.equal(first.status, 'active');
    await store.updateClient(url, { status: 'disabled', tokensValidAfter: 1500 });
    const again = await store.saveMetadataDocumentClient(
      app(url, { name: 'renamed', redirectUris: ['http://127.0.0.1/other'], createdAt: 2000, updatedAt: 2000 }),
      registration(url, { source: 'metadata_document', registrationTokenHash: null, documentExpiresAt: 2060, createdAt: 2000, updatedAt: 2000 }),
    );
    assert.equal(again.name, 'renamed');
    assert.deepEqual(again.redirectUris, ['http://127.0.0.1/other']);
    assert.equal(again.status, 'disabled', 'an operator’s disable stands');
    assert.equal(again.tokensValidAfter, 1500);
    assert.equal(again.createdAt, 1000);
    assert.equal((await store.getClientRegistration(url))?.documentExpiresAt, 2060);
  });

  test('deleteUnusedRegisteredClients: only dynamic registrations older than the cut-off; operator and document clients stay', async () => {
    const { store } = fixture;
    await store.createRegisteredClient(app('app_old', { createdAt: 100 }), registration('app_old', { createdAt: 100 }));
    await store.createRegisteredClient(app('app_new', { createdAt: 900 }), registration('app_new', { createdAt: 900 }));
    await store.saveMetadataDocumentClient(app('https://doc.example/c.json', { createdAt: 100 }), registration('https://doc.example/c.json', { source: 'metadata_document', registrationTokenHash: null, createdAt: 100 }));
    await store.createClient(app('app_operator', { createdAt: 100 }));
    assert.deepEqual(await store.deleteUnusedRegisteredClients(500), ['app_old']);
    assert.equal(await store.getClient('app_old'), null);
    assert.ok(await store.getClient('app_new'));
    assert.ok(await store.getClient('https://doc.example/c.json'));
    assert.ok(await store.getClient('app_operator'));
    const patched = await store.updateRegisteredClient('app_new', { name: 'patched', updatedAt: 950 }, { metadata: { client_name: 'patched' }, updatedAt: 950 });
    assert.equal(patched?.name, 'patched');
    assert.deepEqual((await store.getClientRegistration('app_new'))?.metadata, { client_name: 'patched' });
    assert.equal(await store.updateRegisteredClient('app_gone', { name: 'x' }, { metadata: {}, updatedAt: 1 }), null);
  });
}, { databasePer: 'test' });
