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

forEachStore('CLI: approval webhooks', (fixture) => {
  test('mandate approval-webhook adds (secret shown once, stored encrypted), lists, shows, refuses a non-https URL and deletes', async () => {
    const added = mandate(['approval-webhook', 'add', '--url', 'https://hooks.example.com/approvals', '--json', '--db', fixture.url]);
    assert.equal(added.status, 0, added.stderr);
    const { id, url, secret } = JSON.parse(added.stdout) as { id: string; url: string; secret: string };
    assert.equal(url, 'https://hooks.example.com/approvals');
    const stored = await fixture.store.getApprovalWebhook(id);
    assert.match(stored!.secretEncrypted, /^v1\./);
    assert.equal(stored!.secretEncrypted.includes(secret), false, 'the secret is stored encrypted only');

    const listed = mandate(['approval-webhook', 'list', '--db', fixture.url]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}\\s+https://hooks\\.example\\.com/approvals`));
    const shown = mandate(['approval-webhook', 'show', id, '--db', fixture.url]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /no deliveries yet/);
    assert.equal(`${listed.stdout}${shown.stdout}`.includes(secret), false);

    const bad = mandate(['approval-webhook', 'add', '--url', 'http://hooks.example.com/', '--db', fixture.url]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /must be an https URL/);

    assert.equal(mandate(['approval-webhook', 'delete', id, '--db', fixture.url]).status, 0);
    const gone = mandate(['approval-webhook', 'show', id, '--db', fixture.url]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /no approval webhook/);
  });
});
