import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FileTokenStore } from '../../src/agent/file-token-store.ts';
import { MemoryTokenStore, tokenSetKey } from '../../src/agent/token-store.ts';
import type { DelegatedTokenSet } from '../../src/agent/token-store.ts';

const set = (n: number): DelegatedTokenSet => ({
  key: `k${n}`,
  issuer: 'https://as.example.com',
  clientId: 'app_1',
  actor: 'agt_1',
  subject: `usr_${n}`,
  accessToken: `at_${n}`,
  tokenType: 'Bearer',
  expiresAt: 2_000_000_000,
  refreshToken: `mrt_${n}`,
  scope: ['files:read'],
  resource: ['https://mcp.example.com/mcp'],
  idTokenClaims: { sub: `usr_${n}`, email: 'a@example.com' },
  updatedAt: 1_900_000_000,
});

describe('token stores', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-token-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('tokenSetKey: one key per (issuer, application, agent, user, resources); resource order does not matter', () => {
    const base = { issuer: 'https://as.example.com', clientId: 'app_1', actor: 'agt_1', subject: 'usr_1', resource: ['https://a.example/mcp', 'https://b.example/api'] };
    assert.equal(tokenSetKey(base), tokenSetKey({ ...base, resource: [...base.resource].reverse() }));
    const variants = [{ issuer: 'https://as2.example.com' }, { clientId: 'app_2' }, { actor: 'agt_2' }, { actor: undefined }, { subject: 'usr_2' }, { resource: ['https://a.example/mcp'] }];
    const keys = new Set([tokenSetKey(base), ...variants.map((v) => tokenSetKey({ ...base, ...v }))]);
    assert.equal(keys.size, variants.length + 1);
  });

  test('MemoryTokenStore: get, set, delete; values are copies', async () => {
    const store = new MemoryTokenStore();
    const value = set(1);
    await store.set('k1', value);
    value.accessToken = 'changed';
    const read = await store.get('k1');
    assert.equal(read?.accessToken, 'at_1');
    read!.scope.push('x');
    assert.deepEqual((await store.get('k1'))?.scope, ['files:read']);
    await store.delete('k1');
    assert.equal(await store.get('k1'), undefined);
  });

  test('FileTokenStore: a missing file is empty; writes create the file 0600 in a 0700 directory; values survive a new instance', async () => {
    const path = join(dir, 'nested', 'tokens.json');
    const store = new FileTokenStore(path);
    assert.equal(await store.get('k1'), undefined);
    assert.equal(existsSync(path), false, 'reading creates nothing');
    await store.set('k1', set(1));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'nested')).mode & 0o777, 0o700);
    assert.deepEqual(await new FileTokenStore(path).get('k1'), set(1));
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).version, 1);
    await store.delete('k1');
    assert.equal(await new FileTokenStore(path).get('k1'), undefined);
  });

  test('FileTokenStore: writes are atomic renames (no temporary file left) and concurrent sets on one store lose nothing', async () => {
    const path = join(dir, 'concurrent.json');
    const store = new FileTokenStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, set(i))));
    for (let i = 0; i < 20; i++) assert.equal((await store.get(`k${i}`))?.accessToken, `at_${i}`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('concurrent')), ['concurrent.json']);
  });

  test('FileTokenStore refuses a file others can read or write, a symbolic link, and a directory: ERR_TOKEN_STORE_INSECURE', async () => {
    const path = join(dir, 'loose.json');
    writeFileSync(path, JSON.stringify({ version: 1, tokens: {} }), { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o602]) {
      chmodSync(path, mode);
      await assert.rejects(new FileTokenStore(path).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', path }, mode.toString(8));
      await assert.rejects(new FileTokenStore(path).set('k', set(1)), { code: 'ERR_TOKEN_STORE_INSECURE' }, 'never overwritten either');
    }
    chmodSync(path, 0o600);
    const link = join(dir, 'link.json');
    symlinkSync(path, link);
    await assert.rejects(new FileTokenStore(link).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', message: /symbolic link/ });
    await assert.rejects(new FileTokenStore(dir).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', message: /regular file/ });
  });

  test('FileTokenStore: a file that is not its JSON document → ERR_TOKEN_STORE_MALFORMED; a bad value or path → TypeError', async () => {
    const path = join(dir, 'bad.json');
    for (const text of ['not json', '[]', '{"version":2,"tokens":{}}', '{"version":1,"tokens":{"k":{"accessToken":1}}}']) {
      writeFileSync(path, text, { mode: 0o600 });
      await assert.rejects(new FileTokenStore(path).get('k'), { code: 'ERR_TOKEN_STORE_MALFORMED' }, text);
    }
    assert.throws(() => new FileTokenStore(''), TypeError);
    assert.throws(() => new FileTokenStore(join(dir, 'x.json')).set('k', { accessToken: 'x' } as unknown as DelegatedTokenSet), TypeError);
  });
});
