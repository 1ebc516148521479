import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const read = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<string, unknown>;
const sdk = read('../package.json') as { version: string; dependencies: Record<string, string>; peerDependencies: Record<string, string>; files: string[]; exports: Record<string, string> };
const protocol = read('../../protocol/package.json') as { name: string; version: string; dependencies?: Record<string, string>; files: string[] };

/** The packages an SDK source file imports by name (`@scope/name` or `name`, without subpaths). */
function importedPackages(): Map<string, string> {
  const src = new URL('../src/', import.meta.url);
  const found = new Map<string, string>();
  for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(new URL(file, src), 'utf8');
    for (const [, specifier] of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'".][^'"]*)['"]/gm)) {
      if (specifier!.startsWith('node:') || builtinModules.includes(specifier!)) continue;
      const name = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
      if (!found.has(name)) found.set(name, file);
    }
  }
  return found;
}

test('the SDK is published with @mandate/protocol at exactly the same version (docs/sdk.md)', () => {
  assert.equal(protocol.name, '@mandate/protocol');
  assert.equal(sdk.dependencies['@mandate/protocol'], protocol.version);
  assert.equal(sdk.version, protocol.version, 'released together');
  assert.deepEqual(protocol.dependencies ?? {}, {}, 'the protocol package depends on node:crypto alone');
  assert.deepEqual(sdk.files, ['src']);
  assert.deepEqual(protocol.files, ['src']);
});

test('every package an SDK module imports is a dependency or a peer dependency; never the server', () => {
  const declared = new Set([...Object.keys(sdk.dependencies), ...Object.keys(sdk.peerDependencies)]);
  const imported = importedPackages();
  assert.ok(imported.has('@mandate/protocol') && imported.has('jose'));
  for (const [name, file] of imported) assert.ok(declared.has(name), `${file} imports ${name}, which package.json does not declare`);
  assert.equal(imported.has('@mandate/server'), false);
});

test('every export of the package names a file that exists', () => {
  for (const [entry, target] of Object.entries(sdk.exports)) {
    assert.doesNotThrow(() => readFileSync(new URL(`../${target}`, import.meta.url)), `${entry} → ${target}`);
  }
});
