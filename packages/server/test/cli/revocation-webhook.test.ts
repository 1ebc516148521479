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

forEachStore('CLI: revocation webhooks', (fixture) => {
  test('mandate resource webhook sets (secret shown once, stored encrypted), shows, refuses a non-https URL and clears', async () => {
    const uri = 'https://cli-webhook.example.com/mcp';
    assert.equal(mandate(['resource', 'create', '--uri', uri, '--scope', 'calc', '--db', fixture.url]).status, 0);

    const set = mandate(['resource', 'webhook', uri, '--url', 'https://hooks.example.com/revocations', '--json', '--db', fixture.url]);
    assert.equal(set.status, 0, set.stderr);
    const { url, secret } = JSON.parse(set.stdout) as { url: string; secret: string };
    assert.equal(url, 'https://hooks.example.com/revocations');
    const stored = await fixture.store.getRevocationWebhook((await fixture.store.getResourceByUri(uri))!.id);
    assert.match(stored!.secretEncrypted, /^v1\./);
    assert.equal(stored!.secretEncrypted.includes(secret), false, 'the secret is stored encrypted only');

    const shown = mandate(['resource', 'webhook', uri, '--db', fixture.url]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /url\s+https:\/\/hooks\.example\.com\/revocations/);
    assert.match(shown.stdout, /no deliveries yet/);
    assert.equal(shown.stdout.includes(secret), false);

    const bad = mandate(['resource', 'webhook', uri, '--url', 'http://hooks.example.com/', '--db', fixture.url]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /must be an https URL/);

    assert.equal(mandate(['resource', 'webhook', uri, '--clear', '--db', fixture.url]).status, 0);
    const gone = mandate(['resource', 'webhook', uri, '--db', fixture.url]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /has no revocation webhook/);
  });
});
