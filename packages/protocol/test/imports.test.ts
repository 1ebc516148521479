import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const src = new URL('../src/', import.meta.url);

test('the protocol package imports only node: built-ins and its own modules (no server, SDK, HTTP or library code)', () => {
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 6);
  for (const file of files) {
    const text = readFileSync(new URL(file, src), 'utf8');
    for (const [, specifier] of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      assert.ok(specifier!.startsWith('node:') || (specifier!.startsWith('./') && specifier!.endsWith('.ts')), `${file} imports ${specifier}`);
    }
  }
});
