import assert from 'node:assert/strict';
import { test } from 'node:test';
import { userMayDecide } from '../../src/policy/approval-decider.ts';
import type { ResourceRecord, ResourceScope } from '../../src/store/store.ts';

/** Who decides an approval request made for a user (issue 12 items 2 and 8): the user only where every scope is checked and allows it. */
const MCP = 'https://mcp.example.com/mcp';

function resource(uri: string, scopes: ResourceScope[]): ResourceRecord {
  return {
    id: 'res_1',
    uri,
    name: uri,
    scopes,
    defaultScopes: [],
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

const registered = new Map([
  [
    MCP,
    resource(MCP, [
      { name: 'calc', description: null, risk: 'low' },
      { name: 'deploy', description: null, risk: 'low', policy: { kind: 'admin_approval', version: 1 } },
    ]),
  ],
]);
const ask = (scopes: string[], extra: Partial<Parameters<typeof userMayDecide>[0]> = {}) =>
  userMayDecide({ userId: 'usr_1', scopes, resources: [MCP], ...extra }, registered);

test('the user decides when every scope is defined and needs only their consent (OpenID scopes need no resource)', () => {
  assert.deepEqual(ask(['openid', 'calc']), { ok: true });
});

test('a scope whose policy is admin_approval stays with approvers', () => {
  assert.deepEqual(ask(['calc', 'deploy']), { ok: false, why: `scope deploy needs an approver (policy admin_approval at ${MCP})` });
});

test('what cannot be checked is refused: an unknown scope, a scope with no resource, an unregistered resource, a per-action approval, no user', () => {
  assert.match((ask(['calc', 'shell']) as { why: string }).why, /scope shell is defined by none of the request's resources/);
  assert.match((ask(['calc'], { resources: [] }) as { why: string }).why, /scope calc is defined by none/);
  assert.match((ask(['calc'], { resources: [MCP, 'https://gone.example.com/api'] }) as { why: string }).why, /resource https:\/\/gone\.example\.com\/api is not registered/);
  assert.match((ask(['calc'], { authorizationDetails: [{ type: 'mcp_tool', tool: 'run_command' }] }) as { why: string }).why, /single action/);
  assert.match((ask(['calc'], { userId: null }) as { why: string }).why, /for no user/);
});
