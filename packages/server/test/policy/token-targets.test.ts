import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { selfRegisteredAllowance } from '../../src/policy/self-registered-allowance.ts';
import { classifyExchangeAudiences, userTokenAudience } from '../../src/policy/token-audiences.ts';
import { decideTargets, type Party, TARGET_POLICIES, type TargetDecision, type TargetFacts, type TargetPolicyName } from '../../src/policy/token-targets.ts';
import type { ClientRecord, ResourceRecord } from '../../src/store/store.ts';

const MCP = 'https://mcp.example.com/mcp';
const DOCS = 'https://docs.example.com/api';
const UNREGISTERED = 'https://nowhere.example.com/api';

function resource(uri: string, scopes: string[], defaultScopes: string[] = []): ResourceRecord {
  return {
    id: `res_${uri.length}`,
    uri,
    name: uri,
    scopes: scopes.map((name) => ({ name, description: null, risk: 'low' as const })),
    defaultScopes,
    downstreamResources: [],
    apiKeyId: 'k',
    apiKeyHash: 'h',
    previousApiKeyId: null,
    previousApiKeyHash: null,
    previousApiKeyExpiresAt: null,
    apiKeySince: 0,
    previousApiKeySince: null,
    createdAt: 0,
    updatedAt: 0,
  };
}

const REGISTERED = new Map([
  [MCP, resource(MCP, ['calc', 'files:read', 'files:write'])],
  [DOCS, resource(DOCS, ['docs:read', 'files:read'])],
]);

/** The same resources, MCP with `calc` as its default scope. */
const WITH_DEFAULTS = new Map([...REGISTERED, [MCP, resource(MCP, ['calc', 'files:read', 'files:write'], ['calc'])]]);

const party = (label: string, kind: Party['kind'], allowedAudiences: string[], allowedScopes: string[], defaultScopes: string[] = []): Party => ({
  label,
  kind,
  allowedAudiences,
  allowedScopes,
  defaultScopes,
});
const agent = (audiences: string[], scopes = ['calc', 'files:read', 'docs:read'], label = 'this client') => party(label, 'agent', audiences, scopes);
const app = (audiences: string[], scopes = ['calc', 'files:read', 'docs:read'], label = 'this client') => party(label, 'app', audiences, scopes);

interface Row {
  rule: string;
  facts: Partial<TargetFacts>;
  expected: TargetDecision;
}

const ok = (resources: string[], scopes: string[]): TargetDecision => ({ ok: true, resources, scopes });
const badTarget = (description: string): TargetDecision => ({ ok: false, error: 'invalid_target', description });
const badScope = (description: string): TargetDecision => ({ ok: false, error: 'invalid_scope', description });

function runTable(policyName: TargetPolicyName, rows: Row[]): void {
  describe(`policy ${policyName}`, () => {
    for (const row of rows) {
      test(row.rule, () => {
        const facts: TargetFacts = { requestedResources: [], requestedScopes: undefined, parties: [], registered: REGISTERED, ...row.facts };
        assert.deepEqual(decideTargets(TARGET_POLICIES[policyName], facts), row.expected);
      });
    }
  });
}

runTable('client_credentials', [
  { rule: 'the requested resource, and every allowed scope it defines when no scope is asked', facts: { requestedResources: [MCP], parties: [agent([MCP, DOCS])] }, expected: ok([MCP], ['calc', 'files:read']) },
  { rule: 'no resource: the client’s single listed resource', facts: { parties: [agent([MCP])] }, expected: ok([MCP], ['calc', 'files:read']) },
  { rule: 'no resource and none listed → invalid_target', facts: { parties: [agent([])] }, expected: badTarget('this client may not get tokens for any resource') },
  { rule: 'no resource and several listed → invalid_target', facts: { parties: [agent([MCP, DOCS])] }, expected: badTarget('resource is required: this client may use several resources') },
  { rule: 'a resource the client does not list → invalid_target, before registration is looked at', facts: { requestedResources: [UNREGISTERED], parties: [agent([MCP])] }, expected: badTarget(`resource ${UNREGISTERED} is not allowed for this client`) },
  { rule: 'a listed resource that is not registered → invalid_target', facts: { requestedResources: [UNREGISTERED], parties: [agent([UNREGISTERED])] }, expected: badTarget(`resource ${UNREGISTERED} is not registered`) },
  { rule: 'an application without an audience list may target nothing here', facts: { requestedResources: [MCP], parties: [app([])] }, expected: badTarget(`resource ${MCP} is not allowed for this client`) },
  { rule: 'requested scopes are kept as asked', facts: { requestedResources: [MCP], requestedScopes: ['files:read'], parties: [agent([MCP])] }, expected: ok([MCP], ['files:read']) },
  { rule: 'only requested scopes the client may not hold → invalid_scope', facts: { requestedResources: [MCP], requestedScopes: ['files:write'], parties: [agent([MCP])] }, expected: badScope('scope files:write is not allowed for this client') },
  { rule: 'only requested scopes the resource does not define → invalid_scope', facts: { requestedResources: [MCP], requestedScopes: ['docs:read'], parties: [agent([MCP])] }, expected: badScope('scope docs:read is not defined by the requested resource') },
  { rule: 'TE-SCOPE subset: the scopes that may be granted are, the rest left out', facts: { requestedResources: [MCP], requestedScopes: ['calc', 'files:write', 'docs:read'], parties: [agent([MCP])] }, expected: ok([MCP], ['calc']) },
  { rule: 'several resources: scopes defined by any of them', facts: { requestedResources: [MCP, DOCS], requestedScopes: ['calc', 'docs:read'], parties: [agent([MCP, DOCS])] }, expected: ok([MCP, DOCS], ['calc', 'docs:read']) },
  { rule: 'no scope: the client’s default scopes, as if requested', facts: { requestedResources: [MCP], parties: [party('this client', 'agent', [MCP], ['calc', 'files:read'], ['files:read'])] }, expected: ok([MCP], ['files:read']) },
  { rule: 'no scope and no client defaults: the resource’s default scopes', facts: { requestedResources: [MCP], parties: [agent([MCP])], registered: WITH_DEFAULTS }, expected: ok([MCP], ['calc']) },
]);

runTable('authorization_request', [
  // Identity (OpenID) scopes are the server's own.
  { rule: 'openid alone: no resource (a token for userinfo)', facts: { requestedScopes: ['openid'], parties: [app([MCP])] }, expected: ok([], ['openid']) },
  { rule: 'openid email, no resource: identity only, even for a client with one listed resource', facts: { requestedScopes: ['openid', 'email'], parties: [app([MCP])] }, expected: ok([], ['openid', 'email']) },
  { rule: 'profile without openid asks for nothing', facts: { requestedScopes: ['profile'], parties: [app([MCP])] }, expected: badScope('request openid or at least one scope of a resource') },
  { rule: 'offline_access is dropped for a client that may not refresh', facts: { requestedScopes: ['openid', 'offline_access'], parties: [app([])], mayRefresh: false }, expected: ok([], ['openid']) },
  { rule: 'offline_access is kept for a client that may refresh', facts: { requestedScopes: ['openid', 'offline_access'], parties: [app([])], mayRefresh: true }, expected: ok([], ['openid', 'offline_access']) },
  // MCP-C-04 resource absent: the client's single listed resource, else the one usable resource defining every scope, else invalid_target naming the choices.
  { rule: 'no resource: the client’s single listed resource', facts: { requestedScopes: ['openid', 'calc'], parties: [app([MCP])] }, expected: ok([MCP], ['openid', 'calc']) },
  { rule: 'no resource: the one registered resource defining every scope', facts: { requestedScopes: ['docs:read'], parties: [app([])] }, expected: ok([DOCS], ['docs:read']) },
  { rule: 'no resource: only resources the client may use count', facts: { requestedScopes: ['files:read'], parties: [app([MCP, UNREGISTERED])] }, expected: ok([MCP], ['files:read']) },
  { rule: 'no resource, scopes defined by two → invalid_target naming the choices', facts: { requestedScopes: ['files:read'], parties: [app([])] }, expected: badTarget(`resource is required: name one of ${DOCS} ${MCP}`) },
  { rule: 'no resource and no scope: the only resource the client may use, its scopes', facts: { parties: [app([MCP, DOCS], ['calc', 'docs:read']), agent([DOCS], ['docs:read'], 'the requested agent')] }, expected: ok([DOCS], ['docs:read']) },
  { rule: 'no resource and no scope, several usable → invalid_target naming the choices', facts: { parties: [app([])] }, expected: badTarget(`resource is required: name one of ${DOCS} ${MCP}`) },
  { rule: 'no resource the client may use → invalid_target', facts: { requestedScopes: ['calc'], parties: [app([UNREGISTERED, 'https://other.example.com/api'])] }, expected: badTarget('this client may use no registered resource') },
  // Resource checks.
  { rule: 'a resource that is not registered → invalid_target', facts: { requestedResources: [UNREGISTERED], requestedScopes: ['calc'], parties: [app([])] }, expected: badTarget(`resource ${UNREGISTERED} is not registered`) },
  { rule: 'an application without an audience list may target any registered resource', facts: { requestedResources: [DOCS], requestedScopes: ['docs:read'], parties: [app([])] }, expected: ok([DOCS], ['docs:read']) },
  { rule: 'an application with a list may target only those → invalid_target', facts: { requestedResources: [DOCS], requestedScopes: ['docs:read'], parties: [app([MCP])] }, expected: badTarget(`resource ${DOCS} is not allowed for this client`) },
  { rule: 'the named agent must list the resource too → invalid_target', facts: { requestedResources: [DOCS], requestedScopes: ['docs:read'], parties: [app([]), agent([MCP], undefined, 'the requested agent')] }, expected: badTarget(`resource ${DOCS} is not allowed for the requested agent`) },
  // Scope absent: the client's default scopes, else the resource's, else all the client may hold there.
  { rule: 'no scope: the client’s default scopes, as if it had sent them', facts: { parties: [party('this client', 'app', [MCP], ['calc', 'files:read'], ['openid', 'files:read'])] }, expected: ok([MCP], ['openid', 'files:read']) },
  { rule: 'no scope, no client defaults: the resource’s default scopes', facts: { requestedResources: [MCP], parties: [app([])], registered: WITH_DEFAULTS }, expected: ok([MCP], ['calc']) },
  { rule: 'no scope, no defaults anywhere: what client and agent may both hold there, no OpenID scope', facts: { requestedResources: [MCP], parties: [app([], ['openid', 'calc', 'files:read', 'files:write']), agent([MCP], ['calc', 'files:write'], 'the requested agent')] }, expected: ok([MCP], ['calc', 'files:write']) },
  { rule: 'no scope and nothing the client may hold there → invalid_scope', facts: { requestedResources: [MCP], parties: [app([], [])] }, expected: badScope('request openid or at least one scope of a resource') },
  // Subset: grant what may be granted; refuse only when nothing is left.
  { rule: 'TE-SCOPE subset: a scope the client may not hold is left out', facts: { requestedResources: [MCP], requestedScopes: ['calc', 'files:write'], parties: [app([])] }, expected: ok([MCP], ['calc']) },
  { rule: 'subset: a scope the resource does not define is left out', facts: { requestedResources: [MCP], requestedScopes: ['openid', 'calc', 'docs:read'], parties: [app([])] }, expected: ok([MCP], ['openid', 'calc']) },
  { rule: 'subset: a scope the named agent may not hold is left out', facts: { requestedResources: [MCP], requestedScopes: ['calc', 'files:read'], parties: [app([]), agent([MCP], ['files:read'], 'the requested agent')] }, expected: ok([MCP], ['files:read']) },
  { rule: 'nothing requested may be granted → invalid_scope naming the first reason', facts: { requestedResources: [MCP], requestedScopes: ['files:write', 'docs:read'], parties: [app([])] }, expected: badScope('scope files:write is not allowed for this client') },
  { rule: 'identity kept, every resource scope left out: no resource either (a token for userinfo)', facts: { requestedScopes: ['openid', 'files:write'], parties: [app([MCP])] }, expected: ok([], ['openid']) },
  // Incremental authorization: what the user granted before for these resources is kept, while it still may be.
  { rule: 'MCP-C-03 step-up: the new scope joins those granted before', facts: { requestedResources: [MCP], requestedScopes: ['files:read'], parties: [app([])], alreadyGranted: ['openid', 'calc'] }, expected: ok([MCP], ['files:read', 'openid', 'calc']) },
  { rule: 'step-up: offline_access granted before is not kept (it is asked for with each authorization)', facts: { requestedResources: [MCP], requestedScopes: ['files:read'], parties: [app([])], mayRefresh: true, alreadyGranted: ['offline_access', 'calc'] }, expected: ok([MCP], ['files:read', 'calc']) },
  { rule: 'step-up: a scope granted before that the client may no longer hold is not kept', facts: { requestedResources: [MCP], requestedScopes: ['calc'], parties: [app([], ['calc'])], alreadyGranted: ['files:read'] }, expected: ok([MCP], ['calc']) },
  { rule: 'step-up: nothing new may be granted → invalid_scope, not the earlier scopes again', facts: { requestedResources: [MCP], requestedScopes: ['files:write'], parties: [app([])], alreadyGranted: ['calc'] }, expected: badScope('scope files:write is not allowed for this client') },
]);

/** A client that registered itself (RFC 7591 or a metadata document) with `scope`, as `clientRecordFromMetadata` records it. */
const selfRegistered = (scope: string | undefined): Party => ({ label: 'this client', kind: 'app', allowedAudiences: [], ...selfRegisteredAllowance(scope, [...REGISTERED.values()]) });
runTable('authorization_request', [
  // Issue 9: an MCP host registers with the scopes of its first 401; its registered `scope` is its default, not a cap.
  { rule: 'DCR-SCOPE self-registered: its registered scope is what a request without scope asks for', facts: { parties: [selfRegistered('calc files:read')] }, expected: ok([MCP], ['calc', 'files:read']) },
  { rule: 'DCR-SCOPE MCP-C-03 self-registered with the 401’s scopes: the 403’s step-up to files:write is granted', facts: { requestedScopes: ['files:write', 'calc', 'files:read'], parties: [selfRegistered('calc files:read')] }, expected: ok([MCP], ['files:write', 'calc', 'files:read']) },
  { rule: 'DCR-SCOPE self-registered: a scope of another registered resource may be asked for', facts: { requestedScopes: ['docs:read'], parties: [selfRegistered('calc')] }, expected: ok([DOCS], ['docs:read']) },
  { rule: 'DCR-SCOPE self-registered: a scope no registered resource defines is still left out', facts: { requestedResources: [MCP], requestedScopes: ['calc', 'admin'], parties: [selfRegistered('calc')] }, expected: ok([MCP], ['calc']) },
  { rule: 'DCR-SCOPE self-registered with OpenID scopes: they are its defaults beside the resource scope', facts: { requestedResources: [MCP], parties: [selfRegistered('openid calc')] }, expected: ok([MCP], ['openid', 'calc']) },
  { rule: 'DCR-SCOPE self-registered without scope: every scope of the resource it names', facts: { requestedResources: [DOCS], parties: [selfRegistered(undefined)] }, expected: ok([DOCS], ['files:read', 'docs:read']) },
]);

describe('DCR-SCOPE the allowance of a self-registered client', () => {
  const resources = [...REGISTERED.values()];
  const rows: [string, string | undefined, { allowedScopes: string[]; defaultScopes: string[] }][] = [
    ['registered scope: every resource scope allowed, the registered ones its defaults', 'calc files:read', { allowedScopes: ['calc', 'files:read', 'files:write', 'docs:read'], defaultScopes: ['calc', 'files:read'] }],
    ['no registered scope: every resource scope allowed, no defaults', undefined, { allowedScopes: ['calc', 'files:read', 'files:write', 'docs:read'], defaultScopes: [] }],
    ['OpenID scopes and repeats: kept once among the defaults', 'openid calc openid', { allowedScopes: ['calc', 'files:read', 'files:write', 'docs:read'], defaultScopes: ['openid', 'calc'] }],
  ];
  for (const [rule, scope, expected] of rows) test(rule, () => assert.deepEqual(selfRegisteredAllowance(scope, resources), expected));
  test('no resource registered yet: nothing allowed', () => assert.deepEqual(selfRegisteredAllowance('calc', []), { allowedScopes: [], defaultScopes: ['calc'] }));
});

const grant = { resources: [MCP, DOCS], scopes: ['openid', 'calc', 'docs:read'] };
runTable('user_grant', [
  { rule: 'nothing requested: everything the user granted', facts: { source: grant }, expected: ok([MCP, DOCS], ['openid', 'calc', 'docs:read']) },
  { rule: 'a granted resource narrows the audience', facts: { source: grant, requestedResources: [DOCS] }, expected: ok([DOCS], ['openid', 'calc', 'docs:read']) },
  { rule: 'a resource the user did not grant → invalid_target', facts: { source: grant, requestedResources: [UNREGISTERED] }, expected: badTarget(`resource ${UNREGISTERED} was not granted`) },
  { rule: 'granted scopes narrow the token', facts: { source: grant, requestedScopes: ['calc'] }, expected: ok([MCP, DOCS], ['calc']) },
  { rule: 'a scope the user did not grant → invalid_scope', facts: { source: grant, requestedScopes: ['calc', 'files:write'] }, expected: badScope('scope files:write was not granted') },
]);

const subject = { resources: [MCP, 'agt_other'], scopes: ['openid', 'calc', 'files:read', 'docs:read'] };
const actor = (audiences: string[], scopes = ['calc', 'files:read', 'docs:read'], kind: Party['kind'] = 'agent') => party('this actor', kind, audiences, scopes);
runTable('token_exchange', [
  { rule: 'a resource the actor lists; scopes of the subject the actor may hold there, never an OpenID one', facts: { source: subject, requestedResources: [DOCS], parties: [actor([DOCS, MCP])] }, expected: ok([DOCS], ['files:read', 'docs:read']) },
  { rule: 'no resource: the actor’s single listed resource', facts: { source: subject, parties: [actor([DOCS])] }, expected: ok([DOCS], ['files:read', 'docs:read']) },
  { rule: 'no resource: else the registered resources the subject targets', facts: { source: subject, parties: [actor([DOCS, UNREGISTERED])] }, expected: ok([MCP], ['calc', 'files:read']) },
  { rule: 'no resource and nothing to fall back on → invalid_target', facts: { source: { resources: ['agt_other'], scopes: ['calc'] }, parties: [actor([])] }, expected: badTarget('resource or audience is required') },
  { rule: 'a resource that is not registered → invalid_target', facts: { source: subject, requestedResources: [UNREGISTERED], parties: [actor([UNREGISTERED])] }, expected: badTarget(`resource ${UNREGISTERED} is not registered`) },
  { rule: 'a resource the actor does not list but the subject already targets', facts: { source: subject, requestedResources: [MCP], parties: [actor([DOCS])] }, expected: ok([MCP], ['calc', 'files:read']) },
  { rule: 'a resource neither the actor lists nor the subject targets → invalid_target', facts: { source: subject, requestedResources: [DOCS], parties: [actor([MCP])] }, expected: badTarget(`resource ${DOCS} is not allowed for this actor`) },
  { rule: 'an application without an audience list may target any registered resource', facts: { source: subject, requestedResources: [DOCS], parties: [actor([], undefined, 'app')] }, expected: ok([DOCS], ['files:read', 'docs:read']) },
  { rule: 'a scope beyond the subject token’s → invalid_scope', facts: { source: subject, requestedResources: [MCP], requestedScopes: ['files:write'], parties: [actor([MCP], ['files:write'])] }, expected: badScope("scope files:write exceeds the subject token's scope") },
  { rule: 'a subject scope the actor may not hold → invalid_scope', facts: { source: subject, requestedResources: [MCP], requestedScopes: ['calc'], parties: [actor([MCP], ['files:read'])] }, expected: badScope('scope calc is not allowed for this actor or resource') },
  { rule: 'an OpenID scope is never exchanged → invalid_scope', facts: { source: subject, requestedResources: [MCP], requestedScopes: ['openid'], parties: [actor([MCP], ['openid'])] }, expected: badScope('scope openid is not allowed for this actor or resource') },
  { rule: 'SR-03 a subject without scopes gives none, and no token without a scope is issued', facts: { source: { resources: [MCP], scopes: [] }, requestedResources: [MCP], parties: [actor([MCP])] }, expected: badScope('the subject token, this actor and the target share no scope: no token without a scope is issued') },
  { rule: 'SR-03 a user grant at the root: a resource the actor may use but the user never consented to → invalid_target', facts: { source: { ...subject, consented: [MCP] }, requestedResources: [DOCS], requestedScopes: ['docs:read'], parties: [actor([DOCS], ['docs:read'])] }, expected: badTarget(`resource ${DOCS} is outside what the user consented to`) },
  { rule: 'SR-03 within the consent the actor’s own resources work as before', facts: { source: { ...subject, consented: [MCP, DOCS] }, requestedResources: [DOCS], requestedScopes: ['docs:read'], parties: [actor([DOCS], ['docs:read'])] }, expected: ok([DOCS], ['docs:read']) },
]);

runTable('token_exchange_hand_off', [
  { rule: 'a hand-off to an agent: no resource; the subject’s scopes the actor may hold, defined anywhere', facts: { source: subject, parties: [actor([], ['calc', 'docs:read', 'openid'])] }, expected: ok([], ['calc', 'docs:read']) },
  { rule: 'a requested scope the actor may not hold → invalid_scope', facts: { source: subject, requestedScopes: ['files:read'], parties: [actor([], ['calc'])] }, expected: badScope('scope files:read is not allowed for this actor or resource') },
]);

describe('what each policy looks up before deciding', () => {
  const base = { requestedScopes: undefined, source: subject };
  test('client_credentials: the requested resources the client lists, or all it lists', () => {
    assert.deepEqual(TARGET_POLICIES.client_credentials.lookUp({ ...base, requestedResources: [MCP, DOCS], parties: [agent([MCP])] }), [MCP]);
    assert.deepEqual(TARGET_POLICIES.client_credentials.lookUp({ ...base, requestedResources: [], parties: [agent([MCP])] }), [MCP]);
  });
  test('authorization_request: every registered resource; user grants: none', () => {
    assert.equal(TARGET_POLICIES.authorization_request.lookUp(), 'every');
    assert.deepEqual(TARGET_POLICIES.user_grant.lookUp(), []);
  });
  test('token_exchange: each requested, subject and single listed resource once', () => {
    assert.deepEqual(TARGET_POLICIES.token_exchange.lookUp({ ...base, requestedResources: [MCP, DOCS], parties: [actor([DOCS])] }), [MCP, DOCS, 'agt_other']);
  });
});

describe('exchange audiences and user-token audiences', () => {
  const client = (clientId: string, kind: ClientRecord['kind'], status: ClientRecord['status']) => ({ clientId, kind, status }) as ClientRecord;
  const agents = new Map<string, ClientRecord | null>([
    ['agt_a', client('agt_a', 'agent', 'active')],
    ['agt_b', client('agt_b', 'agent', 'active')],
    ['agt_off', client('agt_off', 'agent', 'disabled')],
    ['app_1', client('app_1', 'app', 'active')],
    ['nobody', null],
  ]);
  const classify = (resources: string[], values: string[]) =>
    classifyExchangeAudiences(resources, values.map((value) => ({ value, canonicalUri: value.startsWith('https://') ? value : null })), { registered: REGISTERED, agents });
  const rows: [string, string[], string[], unknown][] = [
    ['a registered resource as audience joins the resources', [MCP], [DOCS, MCP], { ok: true, resources: [MCP, DOCS], handOff: null }],
    ['one active agent is a hand-off', [], ['agt_a'], { ok: true, resources: [], handOff: agents.get('agt_a') }],
    ['two agents → invalid_target', [], ['agt_a', 'agt_b'], { ok: false, error: 'invalid_target', description: 'audience agt_b is not a registered resource or an active agent' }],
    ['an agent with a resource → invalid_target', [MCP], ['agt_a'], { ok: false, error: 'invalid_target', description: 'an agent audience cannot be combined with resources' }],
    ['a disabled agent → invalid_target', [], ['agt_off'], { ok: false, error: 'invalid_target', description: 'audience agt_off is not a registered resource or an active agent' }],
    ['an application → invalid_target', [], ['app_1'], { ok: false, error: 'invalid_target', description: 'audience app_1 is not a registered resource or an active agent' }],
    ['an unregistered URI that is no client → invalid_target', [], [UNREGISTERED], { ok: false, error: 'invalid_target', description: `audience ${UNREGISTERED} is not a registered resource or an active agent` }],
  ];
  for (const [rule, resources, values, expected] of rows) test(rule, () => assert.deepEqual(classify(resources, values), expected));

  test('a user token targets its resources, and the userinfo endpoint when granted openid or when it has no resource', () => {
    const userinfo = 'https://as.example/userinfo';
    assert.deepEqual(userTokenAudience([MCP], ['calc'], userinfo), [MCP]);
    assert.deepEqual(userTokenAudience([MCP], ['openid', 'calc'], userinfo), [MCP, userinfo]);
    assert.deepEqual(userTokenAudience([], ['openid'], userinfo), [userinfo]);
    assert.deepEqual(userTokenAudience([], [], userinfo), [userinfo]);
  });
});
