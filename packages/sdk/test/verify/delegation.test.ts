import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import { verifyDelegation } from '../../src/verify/delegation.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

/** Issue 11 item 1 at the resource: the SDK's delegation-chain policy, one typed error per rule. */
describe('verifyDelegation and createVerifier({ delegation })', () => {
  let as: TestIssuer;
  before(async () => {
    as = await startTestIssuer();
  });
  after(() => as.close());

  const agent = (id: string, act?: Record<string, unknown>) => ({ sub: id, client_id: id, sub_profile: 'ai_agent', ...(act ? { act } : {}) });
  /** user → planner → researcher: the researcher acts now, the planner handed the token to it. */
  const chain = { sub: 'usr_alice', client_id: 'agt_researcher', act: agent('agt_researcher', agent('agt_planner')) };

  test('a chain within the policy passes; the options are checked at setup', async () => {
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: as.resource,
      delegation: { maxDepth: 2, requireHumanRoot: true, allowedActors: ['agt_planner', 'agt_researcher'], allowedDelegations: { agt_planner: ['agt_researcher'] } },
    });
    const auth = await verifier.verify(as.accessToken(chain));
    assert.deepEqual(auth.actors.map((a) => a.subject), ['agt_researcher', 'agt_planner']);
    for (const delegation of [{ maxDepth: -1 }, { requireHumanRoot: 'yes' }, { allowedActors: 'agt_x' }, { allowedDelegations: { a: 'b' } }, { depth: 1 }]) {
      assert.throws(() => createVerifier({ issuer: as.issuer, audience: as.resource, delegation: delegation as never }), TypeError, JSON.stringify(delegation));
    }
  });

  test('each rule has its typed error, from verify() and from verifyDelegation()', async () => {
    const verify = (delegation: Parameters<typeof verifyDelegation>[1], claims: Record<string, unknown> = chain) =>
      createVerifier({ issuer: as.issuer, audience: as.resource, delegation }).verify(as.accessToken(claims));
    await assert.rejects(verify({ maxDepth: 1 }), { code: 'ERR_DELEGATION_TOO_DEEP', depth: 2, maxDepth: 1 });
    await assert.rejects(verify({ maxDepth: 0 }, { sub: 'usr_alice', client_id: 'app', act: agent('agt_planner') }), { code: 'ERR_DELEGATION_TOO_DEEP' });
    await assert.rejects(verify({ requireHumanRoot: true }, agent('agt_planner')), { code: 'ERR_DELEGATION_NO_HUMAN_ROOT', subject: 'agt_planner' });
    await assert.rejects(verify({ requireHumanRoot: true }, { sub: 'app_self', client_id: 'app_self' }), { code: 'ERR_DELEGATION_NO_HUMAN_ROOT' }, 'a client acting for itself is no person');
    await assert.rejects(verify({ allowedActors: ['agt_researcher'] }), { code: 'ERR_DELEGATION_ACTOR_NOT_ALLOWED', actor: 'agt_planner' });
    await assert.rejects(verify({ allowedDelegations: { agt_planner: ['agt_other'] } }), { code: 'ERR_DELEGATION_NOT_ALLOWED', from: 'agt_planner', to: 'agt_researcher' });
    const auth = await createVerifier({ issuer: as.issuer, audience: as.resource }).verify(as.accessToken(chain));
    assert.doesNotThrow(() => verifyDelegation(auth, { allowedDelegations: { agt_other: [] } }), 'an actor without an entry may delegate');
  });

  test('TE-06 TE-10 a forged nested act: a node that is not an object or lacks sub or client_id → ERR_CLAIM_INVALID (act); an edited or foreign-signed chain → ERR_JWS_SIGNATURE_INVALID', async () => {
    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource, delegation: { maxDepth: 3 } });
    const plain = createVerifier({ issuer: as.issuer, audience: as.resource });
    const planner = agent('agt_planner');
    const forged: [string, unknown][] = [
      ['a nested act that is a string', agent('agt_researcher', 'agt_admin' as never)],
      ['a nested act that is an array', agent('agt_researcher', [planner] as never)],
      ['a nested act that is null', { ...agent('agt_researcher'), act: null }],
      ['a nested act without sub', agent('agt_researcher', { client_id: 'agt_planner', sub_profile: 'ai_agent' })],
      ['a nested act without client_id', agent('agt_researcher', { sub: 'agt_planner', sub_profile: 'ai_agent' })],
      ['a nested act with an empty client_id', agent('agt_researcher', { sub: 'agt_planner', client_id: '' })],
      ['a deeper node without client_id', agent('agt_researcher', agent('agt_planner', { sub: 'usr_admin' }))],
      ['an outermost act without client_id', { sub: 'agt_researcher' }],
    ];
    for (const [name, act] of forged) {
      const claims = { sub: 'usr_alice', client_id: 'agt_researcher', act };
      await assert.rejects(verifier.verify(as.accessToken(claims)), { code: 'ERR_CLAIM_INVALID', claim: 'act' }, `verify() with a policy: ${name}`);
      await assert.rejects(plain.verify(as.accessToken(claims)), { code: 'ERR_CLAIM_INVALID', claim: 'act' }, `verify() without a policy: ${name}`);
      // verifyDelegation on claims that did not come through createVerifier (read elsewhere) refuses them the same way.
      assert.throws(() => verifyDelegation({ claims: claims as never }, { maxDepth: 3 }), { code: 'ERR_CLAIM_INVALID', claim: 'act' }, `verifyDelegation(): ${name}`);
    }

    // The chain edited after signing (the planner replaced by another agent) or signed by a key the issuer never published.
    const [header, , signature] = as.accessToken(chain).split('.');
    const edited = { ...as.claims(chain), act: agent('agt_researcher', agent('agt_admin')) };
    await assert.rejects(verifier.verify(`${header}.${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${signature}`), { code: 'ERR_JWS_SIGNATURE_INVALID' });
    const stranger = as.createKey('ES256', false);
    await assert.rejects(verifier.verify(as.accessToken(chain, { key: stranger, header: { kid: as.keyFor('ES256').kid } })), { code: 'ERR_JWS_SIGNATURE_INVALID' });
    // The genuine chain passes, with every node as issued.
    assert.deepEqual((await verifier.verify(as.accessToken(chain))).actors.map((a) => [a.subject, a.clientId]), [['agt_researcher', 'agt_researcher'], ['agt_planner', 'agt_planner']]);
  });
});
