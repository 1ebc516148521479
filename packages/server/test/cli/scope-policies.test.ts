import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forEachStore } from '../helpers/stores.ts';

const bin = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
const kek = randomBytes(32).toString('base64url');

function mandate(args: string[], input?: string) {
  return spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', env: { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent' } });
}

forEachStore('CLI: scope policies and user roles', (fixture) => {
  test('POL-07 mandate resource policy sets a versioned policy with conditions; policies lists them; user set-roles; admin-token --role --user', async () => {
    const uri = 'https://cli-policy.example.com/mcp';
    const created = mandate(['resource', 'create', '--uri', uri, '--scope', 'calc exec', '--risk', 'exec=critical', '--db', fixture.url]);
    assert.equal(created.status, 0, created.stderr);

    const set = mandate(['resource', 'policy', uri, 'exec', '--policy', 'role_required', '--role', 'operator', '--max-lifetime', '300', '--window', '08:00-18:00', '--json', '--db', fixture.url]);
    assert.equal(set.status, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout), {
      scope: 'exec',
      risk: 'critical',
      policy: 'role_required',
      role: 'operator',
      conditions: { max_token_lifetime_seconds: 300, time_window: { from: '08:00', to: '18:00' } },
      version: 1,
      source: 'set',
    });
    const listed = mandate(['resource', 'policies', uri, '--db', fixture.url]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /calc\s+low\s+user_consent\s+default/);
    assert.match(listed.stdout, /exec\s+critical\s+role_required\(operator\), max 300s, 08:00–18:00 UTC\s+v1/);

    const bad = mandate(['resource', 'policy', uri, 'exec', '--policy', 'role_required', '--db', fixture.url]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /role: role_required needs a role/);
    assert.equal(mandate(['resource', 'policy', uri, '--policy', 'auto', '--db', fixture.url]).status, 2, 'the scope is required');

    const versions = await fixture.store.listScopePolicyVersions((await fixture.store.getResourceByUri(uri))!.id, 'exec');
    assert.deepEqual(versions.map((v) => [v.version, v.policy.kind, v.changedBy]), [[1, 'role_required', 'cli']]);

    const user = mandate(['user', 'create', '--email', 'op@example.com', '--role', 'approver', '--no-password', '--json', '--db', fixture.url]);
    assert.equal(user.status, 0, user.stderr);
    assert.deepEqual((JSON.parse(user.stdout) as { roles: string[] }).roles, ['approver']);
    const roles = mandate(['user', 'set-roles', 'op@example.com', '--role', 'operator', '--role', 'approver', '--json', '--db', fixture.url]);
    assert.equal(roles.status, 0, roles.stderr);
    assert.deepEqual((JSON.parse(roles.stdout) as { roles: string[] }).roles, ['operator', 'approver']);

    const token = mandate(['admin-token', 'create', '--name', 'on call', '--role', 'approver', '--user', 'op@example.com', '--json', '--db', fixture.url]);
    assert.equal(token.status, 0, token.stderr);
    const minted = JSON.parse(token.stdout) as { role: string; user_id: string; token: string };
    assert.equal(minted.role, 'approver');
    assert.equal(minted.user_id, (JSON.parse(user.stdout) as { id: string }).id);
    assert.equal(mandate(['admin-token', 'create', '--name', 'x', '--role', 'root', '--db', fixture.url]).status, 1, 'an unknown role is refused');
  });
});
