// Supply chain (issue 14 item 7): the lockfile is committed and complete, no dependency runs an install script the
// project has not reviewed, and every runtime dependency is reviewed in docs/security.md at the version installed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../', import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));
const lock = readJson('package-lock.json') as { lockfileVersion: number; packages: Record<string, LockEntry> };
interface LockEntry { version?: string; integrity?: string; link?: boolean; dev?: boolean; hasInstallScript?: boolean }

const installed = Object.entries(lock.packages).filter(([path, entry]) => path.includes('node_modules/') && !entry.link);

test('SC-01 package-lock.json is committed, version 3, and every installed package carries a sha512 integrity', () => {
  const tracked = execFileSync('git', ['ls-files', 'package-lock.json'], { cwd: root, encoding: 'utf8' }).trim();
  assert.equal(tracked, 'package-lock.json', 'the lockfile is tracked by git');
  assert.equal(lock.lockfileVersion, 3);
  const missing = installed.filter(([, entry]) => !entry.integrity?.startsWith('sha512-')).map(([path]) => path);
  assert.deepEqual(missing, [], 'packages without a sha512 integrity');
});

test('SC-02 install scripts: only the pinned Node runtime may run one; every package that has one is reviewed in allowScripts', () => {
  const allow = (readJson('package.json') as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
  const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const withScripts = installed.filter(([, entry]) => entry.hasInstallScript).map(([path]) => nameOf(path));
  const unreviewed = withScripts.filter((name) => !(name in allow));
  assert.deepEqual(unreviewed, [], 'packages with install scripts missing from allowScripts');
  const allowed = Object.entries(allow).filter(([, on]) => on).map(([name]) => name);
  assert.deepEqual(allowed, ['node'], 'only the node@24 runtime package installs with its script');
  const production = installed.filter(([, entry]) => entry.hasInstallScript && !entry.dev).map(([path]) => nameOf(path));
  assert.deepEqual(production, [], 'no runtime dependency has an install script');
});

test('SC-03 every runtime dependency of the server, the SDK and the protocol package is reviewed in docs/security.md at its installed version', () => {
  const review = readFileSync(new URL('docs/security.md', root), 'utf8');
  const section = review.slice(review.indexOf('## Supply chain'));
  assert.ok(section.length > 0 && review.includes('## Supply chain'), 'docs/security.md has a "Supply chain" section');
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `([^`]+)` \| ([^ |]+) \|/gm)) rows.set(match[1]!, match[2]!);
  for (const workspace of ['packages/server', 'packages/sdk', 'packages/protocol']) {
    const manifest = readJson(`${workspace}/package.json`) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (name.startsWith('@mandate/')) continue;
      const version = lock.packages[`node_modules/${name}`]?.version;
      assert.ok(version, `${name} is installed`);
      assert.equal(rows.get(name), version, `${workspace}: ${name} reviewed at ${version} in docs/security.md`);
    }
  }
});
