import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import type { Store, UserGrantRecord, UserRecord } from '../../src/store/store.ts';
import { StoreConflictError } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

function user(id: string, email: string | null, overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id,
    email,
    emailVerified: true,
    name: 'Ada',
    passwordHash: 'scrypt$1$x',
    isAdmin: false,
    roles: [],
    status: 'active',
    tokensValidAfter: 0,
    createdAt: 10,
    updatedAt: 10,
    ...overrides,
  };
}

function grant(id: string, userId: string, overrides: Partial<UserGrantRecord> = {}): UserGrantRecord {
  return {
    id,
    userId,
    clientId: 'app_1',
    actorId: 'agt_1',
    scopes: ['openid', 'calc'],
    resources: ['https://mcp.example.com/mcp'],
    authTime: 100,
    amr: ['pwd'],
    status: 'active',
    createdAt: 100,
    expiresAt: 10_000,
    revokedAt: null,
    ...overrides,
  };
}

forEachStore('store contract: users, sessions, grants, consent', (fixture) => {
  let store: Store;
  beforeEach(() => {
    store = fixture.store;
  });

  test('users: create, read back every field (booleans too), unique email, update, delete', async () => {
    const ada = user('usr_ada', 'ada@example.com', { isAdmin: true, emailVerified: false });
    await store.createUser(ada);
    assert.deepEqual(await store.getUser('usr_ada'), ada);
    assert.deepEqual(await store.getUserByEmail('ada@example.com'), ada);
    await assert.rejects(store.createUser(user('usr_other', 'ada@example.com')), StoreConflictError);
    await store.createUser(user('usr_noemail', null));
    await store.createUser(user('usr_noemail2', null));
    const updated = await store.updateUser('usr_ada', { status: 'disabled', tokensValidAfter: 50, isAdmin: false });
    assert.equal(updated?.status, 'disabled');
    assert.equal(updated?.isAdmin, false);
    await assert.rejects(store.updateUser('usr_noemail', { email: 'ada@example.com' }), StoreConflictError);
    assert.equal((await store.listUsers()).length, 3);
    assert.equal(await store.deleteUser('usr_noemail2', 1000), true);
    assert.equal(await store.deleteUser('usr_noemail2', 1000), false);
  });

  test('identities: created with the user in one transaction; (issuer, subject) unique; a conflict writes nothing', async () => {
    const identity = { issuer: 'https://idp.example', subject: 's1', userId: 'usr_fed', providerId: 'idp', email: 'f@example.com', createdAt: 1 };
    await store.createUserWithIdentity(user('usr_fed', 'fed@example.com'), identity);
    assert.deepEqual(await store.getIdentity('https://idp.example', 's1'), identity);
    await assert.rejects(store.createUserWithIdentity(user('usr_fed2', 'fed2@example.com'), { ...identity, userId: 'usr_fed2' }), StoreConflictError);
    assert.equal(await store.getUser('usr_fed2'), null, 'the transaction rolled back the user');
    await store.linkIdentity({ ...identity, subject: 's2' });
    assert.equal((await store.listIdentities('usr_fed')).length, 2);
  });

  test('passkeys: create, list, record use, delete only by owner', async () => {
    await store.createUser(user('usr_fed', 'fed@example.com'));
    const passkey = { credentialId: 'cred1', userId: 'usr_fed', publicKey: 'pk', counter: 0, transports: ['internal'], name: 'laptop', createdAt: 1, lastUsedAt: null };
    await store.createPasskey(passkey);
    assert.deepEqual(await store.getPasskey('cred1'), passkey);
    await store.recordPasskeyUse('cred1', 7, 99);
    assert.equal((await store.getPasskey('cred1'))?.counter, 7);
    assert.equal(await store.deletePasskey('usr_other', 'cred1'), false);
    assert.equal((await store.listPasskeys('usr_fed')).length, 1);
    assert.equal(await store.deletePasskey('usr_fed', 'cred1'), true);
  });

  test('sessions: expiry, single-use challenge, delete per user', async () => {
    await store.createUser(user('usr_fed', 'fed@example.com'));
    const session = { idHash: 'h1', userId: 'usr_fed', authTime: 5, amr: ['pwd'], challenge: null, challengeExpiresAt: null, createdAt: 5, expiresAt: 100, lastSeenAt: 5 };
    await store.createSession(session);
    await store.createSession({ ...session, idHash: 'anon', userId: null, authTime: null, amr: [] });
    assert.deepEqual(await store.getSession('h1', 50), session);
    assert.equal(await store.getSession('h1', 100), null, 'expired');
    await store.touchSession('h1', 40);
    await store.touchSession('h1', 30);
    assert.equal((await store.getSession('h1', 50))?.lastSeenAt, 40, 'touchSession records the latest use, never an earlier one');
    await store.setSessionChallenge('anon', 'chal', 60);
    assert.equal(await store.takeSessionChallenge('anon', 50), 'chal');
    assert.equal(await store.takeSessionChallenge('anon', 50), null, 'single use');
    await store.setSessionChallenge('anon', 'late', 60);
    assert.equal(await store.takeSessionChallenge('anon', 61), null, 'expired challenge');
    assert.equal(await store.deleteUserSessions('usr_fed'), 1);
    assert.equal(await store.getSession('h1', 50), null);
  });

  test('upstream login states are single use, taken only by their own session (SR-22), and expire', async () => {
    await store.createUpstreamLoginState({ stateHash: 's', sessionHash: 'anon', providerId: 'idp', returnTo: '/authorize?x=1', expiresAt: 100 });
    assert.equal(await store.takeUpstreamLoginState('s', 'other', 50), null, 'another session cannot take it');
    assert.equal((await store.takeUpstreamLoginState('s', 'anon', 50))?.returnTo, '/authorize?x=1', 'so it is still there for its own');
    assert.equal(await store.takeUpstreamLoginState('s', 'anon', 50), null);
    await store.createUpstreamLoginState({ stateHash: 't', sessionHash: 'anon', providerId: 'idp', returnTo: '/', expiresAt: 100 });
    assert.equal(await store.takeUpstreamLoginState('t', 'anon', 101), null);
  });

  test('SR-06 login throttle: concurrent read-modify-writes of the same counters never interleave', async () => {
    const keys = ['account:x', 'ip:1', 'pair:x1'];
    const bump = () =>
      store.updateLoginThrottles(keys, (current) => ({
        write: current.map((c) => ({ ...c, failures: c.failures + 1, lockedUntil: c.failures + 1 === 5 ? 1060 : c.lockedUntil, updatedAt: 1000 })),
        result: current[0]!.failures + 1,
      }));
    const seen = await Promise.all(Array.from({ length: 12 }, bump));
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 1), 'each call saw every earlier one');
    assert.deepEqual(await store.getLoginThrottle('account:x'), { key: 'account:x', failures: 12, lockedUntil: 1060, updatedAt: 1000 });
    assert.equal(await store.updateLoginThrottles(['ip:2'], (current) => ({ write: [], result: current[0]!.failures })), 0, 'a new key reads as zero');
    await store.clearLoginFailures('account:x');
    assert.equal(await store.getLoginThrottle('account:x'), null);
  });

  test('grants and codes: exactly one concurrent redemption wins; later ones see a replay', async () => {
    await store.createUser(user('usr_g', 'g@example.com'));
    const g = grant('grt_1', 'usr_g');
    const action = [{ type: 'mcp_tool' as const, tool: 'run_command', arguments_sha256: 'a'.repeat(43), locations: ['https://mcp.example.com/mcp'] }];
    await store.createGrantWithCode(g, { codeHash: 'c1', grantId: 'grt_1', redirectUri: 'https://app/cb', codeChallenge: 'x', nonce: 'n', expiresAt: 160, consumedAt: null, authorizationDetails: action });
    assert.deepEqual(await store.getGrant('grt_1'), g);
    const results = await Promise.all(Array.from({ length: 4 }, () => store.redeemAuthorizationCode('c1', 120)));
    assert.deepEqual(results.map((r) => r.status).sort(), ['redeemed', 'replayed', 'replayed', 'replayed']);
    const won = results.find((r) => r.status === 'redeemed');
    assert.equal(won?.status === 'redeemed' && won.code.nonce, 'n');
    assert.deepEqual(won?.status === 'redeemed' && won.code.authorizationDetails, action, 'RFC 9396 details round-trip with the code');
    assert.deepEqual(await store.redeemAuthorizationCode('nope', 120), { status: 'unknown' });
    assert.equal(await store.revokeGrant('grt_1', 130), true);
    assert.equal(await store.revokeGrant('grt_1', 131), false);
    assert.equal((await store.getGrant('grt_1'))?.status, 'revoked');
    assert.equal((await store.listUserGrants('usr_g')).length, 1);
  });

  test('recent grants: only live grants of this user, client and agent, newest first, at most the limit', async () => {
    await store.createUser(user('usr_g', 'g@example.com'));
    await store.createUser(user('usr_h', 'h@example.com'));
    for (let i = 1; i <= 5; i++) await store.createGrant(grant(`grt_a${i}`, 'usr_g', { createdAt: 100 + i }));
    await store.createGrant(grant('grt_direct', 'usr_g', { actorId: null, createdAt: 200 }));
    await store.createGrant(grant('grt_other_app', 'usr_g', { clientId: 'app_2', createdAt: 201 }));
    await store.createGrant(grant('grt_other_user', 'usr_h', { createdAt: 202 }));
    await store.createGrant(grant('grt_expired', 'usr_g', { createdAt: 203, expiresAt: 150 }));
    await store.createGrant(grant('grt_revoked', 'usr_g', { createdAt: 204 }));
    await store.revokeGrant('grt_revoked', 205);
    const ids = async (actorId: string | null, limit: number) => (await store.listRecentGrants('usr_g', 'app_1', actorId, 150, limit)).map((g) => g.id);
    assert.deepEqual(await ids('agt_1', 3), ['grt_a5', 'grt_a4', 'grt_a3']);
    assert.deepEqual(await ids('agt_1', 10), ['grt_a5', 'grt_a4', 'grt_a3', 'grt_a2', 'grt_a1']);
    assert.deepEqual(await ids(null, 10), ['grt_direct'], 'no agent matches only grants without one');
    assert.deepEqual(await store.listRecentGrants('usr_g', 'app_1', 'agt_1', 10_000, 10), [], 'expired at the limit');
    assert.deepEqual(await store.listRecentGrants('usr_g', 'app_1', 'agt_1', 150, 1), [grant('grt_a5', 'usr_g', { createdAt: 105 })]);
  });

  test('a grant read before it exists is found once created; a revoked grant reads revoked after code and refresh writes', async () => {
    await store.createUser(user('usr_g', 'g@example.com'));
    assert.equal(await store.getGrant('grt_new'), null);
    await store.createGrantWithCode(grant('grt_new', 'usr_g'), { codeHash: 'c9', grantId: 'grt_new', redirectUri: 'r', codeChallenge: 'x', nonce: null, expiresAt: 160, consumedAt: null });
    assert.equal((await store.getGrant('grt_new'))?.id, 'grt_new', 'the miss read before is not served');
    assert.equal(await store.getGrant('grt_cg'), null);
    await store.createGrant(grant('grt_cg', 'usr_g'));
    assert.equal((await store.getGrant('grt_cg'))?.id, 'grt_cg');
    assert.equal((await store.redeemAuthorizationCode('c9', 120)).status, 'redeemed');
    await store.createRefreshToken({ tokenHash: 'r9', grantId: 'grt_new', status: 'active', createdAt: 1, expiresAt: 500 });
    assert.equal(await store.retireRefreshToken('r9'), 'rotated');
    assert.equal(await store.revokeGrant('grt_new', 130), true);
    assert.equal((await store.getGrant('grt_new'))?.status, 'revoked');
    assert.equal((await store.getUser('usr_g'))?.status, 'active');
    await store.updateUser('usr_g', { status: 'disabled', updatedAt: 140 });
    assert.equal((await store.getUser('usr_g'))?.status, 'disabled', 'a write to a cached record is seen at once');
  });

  test('refresh tokens: retiring is atomic; the retired token is seen as reused', async () => {
    await store.createUser(user('usr_g', 'g@example.com'));
    await store.createGrantWithCode(grant('grt_2', 'usr_g'), { codeHash: 'c2', grantId: 'grt_2', redirectUri: 'r', codeChallenge: 'x', nonce: null, expiresAt: 160, consumedAt: null });
    await store.createRefreshToken({ tokenHash: 'r1', grantId: 'grt_2', status: 'active', createdAt: 1, expiresAt: 500 });
    const results = await Promise.all([1, 2, 3].map(() => store.retireRefreshToken('r1')));
    assert.deepEqual(results.sort(), ['reused', 'reused', 'rotated']);
    assert.equal((await store.getRefreshToken('r1'))?.status, 'rotated');
    assert.equal(await store.retireRefreshToken('unknown'), 'unknown');
  });

  test('issued token records are written in the audit batch\'s transaction: with its rows, or not at all', async () => {
    await store.createUser(user('usr_g', 'g@example.com'));
    await store.createGrant(grant('grt_a', 'usr_g'));
    await store.createGrant(grant('grt_b', 'usr_g'));
    const refresh = (hash: string, grantId: string) => ({ tokenHash: hash, grantId, status: 'active' as const, createdAt: 1, expiresAt: 500, dpopJkt: null });
    const txn = { jti: 'txn-jti-1', txn: 'txn-1', rootClaims: { sub: 'usr_g' }, workloads: [{ kind: 'agent' as const, id: 'agt_1' }], createdAt: 1, expiresAt: 60 };
    const records = { refreshTokens: [refresh('ra', 'grt_a'), refresh('rb', 'grt_b'), refresh('r-gone', 'grt_deleted')], transactionTokens: [txn] };
    const batch = (fail: boolean) => (state: { anchor: { seq: number; hash: string; keyedFromSeq: number } | null }) => {
      const head = state.anchor!;
      const row = { seq: head.seq + 1, tsMs: 1, event: 'token.issued', actor: 'app_1', subject: 'usr_g', clientId: 'app_1', ip: null, detail: {}, prevHash: head.hash, hash: `h${head.seq + 1}` };
      if (fail) throw new Error('the batch is refused');
      return { rows: [row], anchor: { seq: row.seq, hash: row.hash, keyedFromSeq: head.keyedFromSeq, mac: 'm' } };
    };
    // A batch that fails writes none of its tokens.
    await assert.rejects(store.appendAuditRows(batch(true), records), /the batch is refused/);
    assert.equal(await store.getRefreshToken('ra'), null);
    assert.equal(await store.getTransactionToken('txn-jti-1'), null);
    // One that commits writes them all, except the refresh token of a grant that is gone (and fails no other).
    await store.appendAuditRows(batch(false), records);
    assert.equal((await store.getRefreshToken('ra'))?.grantId, 'grt_a');
    assert.equal((await store.getRefreshToken('rb'))?.grantId, 'grt_b');
    assert.equal(await store.getRefreshToken('r-gone'), null);
    assert.deepEqual(await store.getTransactionToken('txn-jti-1'), txn);
    assert.equal((await store.listAuditRows({ event: 'token.issued', limit: 10 })).length, 1);
  });

  test('consent: upsert per (user, client, actor, resource), list, delete', async () => {
    await store.createUser(user('usr_g', 'g@example.com'));
    const consent = { userId: 'usr_g', clientId: 'app_1', actorId: 'agt_1', resource: 'https://mcp.example.com/mcp', scopes: ['calc'], createdAt: 1, updatedAt: 1 };
    await store.saveConsent(consent);
    await store.saveConsent({ ...consent, scopes: ['calc', 'files:read'], updatedAt: 2 });
    await store.saveConsent({ ...consent, actorId: '', resource: '' });
    assert.deepEqual((await store.getConsent('usr_g', 'app_1', 'agt_1', 'https://mcp.example.com/mcp'))?.scopes, ['calc', 'files:read']);
    assert.equal((await store.listConsents('usr_g')).length, 2);
    assert.equal(await store.deleteConsent('usr_g', 'app_1', '', ''), true);
    assert.equal(await store.getConsent('usr_g', 'app_1', '', ''), null);
  });

  test('revokeGrantsOf: every active grant of a user, or of a client as client or named agent, at once; returns their ids', async () => {
    await store.createUser(user('usr_ra', 'ra@example.com'));
    await store.createUser(user('usr_rb', 'rb@example.com'));
    const code = (id: string) => ({ codeHash: `c-${id}`, grantId: id, redirectUri: 'r', codeChallenge: 'x', nonce: null, expiresAt: 160, consumedAt: null });
    const grants = [
      grant('grt_ra1', 'usr_ra', { clientId: 'app_r', actorId: 'agt_r' }),
      grant('grt_ra2', 'usr_ra', { clientId: 'app_s', actorId: null }),
      grant('grt_rb1', 'usr_rb', { clientId: 'app_s', actorId: 'agt_r' }),
      grant('grt_rb2', 'usr_rb', { clientId: 'app_r', actorId: null }),
    ];
    for (const g of grants) await store.createGrantWithCode(g, code(g.id));
    await store.revokeGrant('grt_rb2', 150);
    assert.deepEqual((await store.revokeGrantsOf({ clientId: 'agt_r' }, 200)).sort(), ['grt_ra1', 'grt_rb1'], 'as the named agent');
    assert.deepEqual(await store.revokeGrantsOf({ clientId: 'app_r' }, 201), [], 'its grants are revoked already');
    assert.deepEqual(await store.revokeGrantsOf({ userId: 'usr_ra' }, 202), ['grt_ra2']);
    assert.deepEqual(await store.revokeGrantsOf({ userId: 'usr_rb' }, 203), []);
    const after = await Promise.all(grants.map((g) => store.getGrant(g.id)));
    assert.deepEqual(after.map((g) => [g?.status, g?.revokedAt]), [['revoked', 200], ['revoked', 202], ['revoked', 200], ['revoked', 150]]);
  });

  test('purge removes expired sessions, states, codes past retention, refresh tokens and grants', async () => {
    await store.createUser(user('usr_p', 'p@example.com'));
    const session = { idHash: 'old', userId: 'usr_p', authTime: 5, amr: ['pwd'], challenge: null, challengeExpiresAt: null, createdAt: 5, expiresAt: 100, lastSeenAt: 5 };
    await store.createSession(session);
    await store.createSession({ ...session, idHash: 'current', expiresAt: 2_000_000 });
    await store.createUpstreamLoginState({ stateHash: 'old', sessionHash: 'old', providerId: 'idp', returnTo: '/', expiresAt: 100 });
    await store.createGrantWithCode(grant('grt_old', 'usr_p'), { codeHash: 'c_old', grantId: 'grt_old', redirectUri: 'r', codeChallenge: 'x', nonce: null, expiresAt: 160, consumedAt: null });
    await store.createRefreshToken({ tokenHash: 'r_old', grantId: 'grt_old', status: 'active', createdAt: 1, expiresAt: 500 });
    await store.createGrantWithCode(grant('grt_current', 'usr_p', { expiresAt: 2_000_000 }), { codeHash: 'c_current', grantId: 'grt_current', redirectUri: 'r', codeChallenge: 'x', nonce: null, expiresAt: 1_000_060, consumedAt: null });
    await store.createRefreshToken({ tokenHash: 'r_current', grantId: 'grt_current', status: 'active', createdAt: 1, expiresAt: 2_000_000 });

    const purged = await store.purgeExpired(1_000_000);
    assert.ok(purged > 0);
    assert.equal(await store.getGrant('grt_old'), null);
    assert.equal(await store.getRefreshToken('r_old'), null);
    assert.equal(await store.getSession('old', 50), null);
    assert.equal(await store.takeUpstreamLoginState('old', 'anon', 50), null);
    assert.equal((await store.getGrant('grt_current'))?.id, 'grt_current', 'what has not expired stays');
    assert.equal((await store.getRefreshToken('r_current'))?.tokenHash, 'r_current');
    assert.equal((await store.getSession('current', 1_000_000))?.idHash, 'current');
  });
}, { databasePer: 'test' });
