import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forEachStore } from '../helpers/stores.ts';

const bin = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
const kek = randomBytes(32).toString('base64url');

function mandate(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent' } });
}

forEachStore('CLI: tool policies and the tool-call audit filter (issue 12 items 4, 7)', (fixture) => {
  test('mandate resource tool marks a tool for per-action approval, tools lists it, --clear removes it; audit list --tool filters', async () => {
    const uri = 'https://cli-tools.example.com/mcp';
    assert.equal(mandate(['resource', 'create', '--uri', uri, '--scope', 'exec', '--db', fixture.url]).status, 0);
    const set = mandate(['resource', 'tool', uri, 'run_command', '--per-action-approval', '--risk', 'critical', '--json', '--db', fixture.url]);
    assert.equal(set.status, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout), { ...JSON.parse(set.stdout), tool: 'run_command', per_action_approval: true, risk: 'critical', updated_by: 'cli' });
    const listed = mandate(['resource', 'tools', uri, '--db', fixture.url]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /run_command\s+yes\s+critical\s+cli/);
    assert.equal(mandate(['resource', 'tool', uri, 'run_command', '--db', fixture.url]).status, 2, 'neither --per-action-approval nor --clear');
    assert.equal(mandate(['resource', 'tool', uri, 'run_command', '--per-action-approval', '--risk', 'extreme', '--db', fixture.url]).status, 1, 'an unknown risk');
    assert.equal(mandate(['resource', 'tool', uri, 'run_command', '--clear', '--db', fixture.url]).status, 0);
    assert.match(mandate(['resource', 'tools', uri, '--db', fixture.url]).stdout, /no tool policies/);
    assert.equal(mandate(['resource', 'tool', uri, 'run_command', '--clear', '--db', fixture.url]).status, 1, 'nothing left to clear');

    const audit = mandate(['audit', 'list', '--event', 'tool_policy.*', '--tool', 'run_command', '--json', '--db', fixture.url]);
    assert.equal(audit.status, 0, audit.stderr);
    assert.deepEqual((JSON.parse(audit.stdout) as { event: string }[]).map((e) => e.event), ['tool_policy.deleted', 'tool_policy.updated']);
    assert.deepEqual(JSON.parse(mandate(['audit', 'list', '--tool', 'no_such_tool', '--json', '--db', fixture.url]).stdout), []);
  });
});
