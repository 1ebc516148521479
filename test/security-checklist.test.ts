// docs/security.md's checklist (issue 14 item 1): no row without a test. Each row names its tests by the start (or a
// part) of their titles; every one must exist among the project's tests, and `npm test` runs them all.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? testFiles(path) : entry.name.endsWith('.ts') && /[/\\]test[/\\]/.test(path) ? [path] : [];
  });
}

/** The titles of every test and suite, as written (template parts included); shared suites live in test helpers. */
const titles = ['packages', 'examples', 'test'].flatMap((dir) => testFiles(join(root, dir))).flatMap((file) => {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/\b(?:test|it|describe|suite|forEachStore)\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g)].map((m) => m[2]!.replace(/\\(.)/g, '$1'));
});

const doc = readFileSync(join(root, 'docs/security.md'), 'utf8');

/** The table rows of a `## ` section of docs/security.md, without header and separator lines. */
function rowsOf(heading: string): string[] {
  const start = doc.indexOf(`\n## ${heading}`);
  assert.ok(start !== -1, `docs/security.md has a "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  const lines = doc.slice(start, end === -1 ? undefined : end).split('\n');
  return lines.filter((line) => line.startsWith('| ') && !/^\| (id|threat) \|/.test(line) && !/^\|[-| ]+\|$/.test(line));
}

const refsOf = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
const titled = (ref: string) => titles.some((title) => title.includes(ref));
const rows = rowsOf('The checklist');

test('the checklist in docs/security.md has its rows', () => {
  assert.ok(rows.length >= 40, `${rows.length} rows`);
});

test('no checklist row without a test: every row names tests, and each named test exists', () => {
  const ids = new Set<string>();
  for (const row of rows) {
    const cells = row.split(' | ');
    const id = cells[0]!.replace(/^\| /, '');
    assert.ok(!ids.has(id), `${id} appears once`);
    ids.add(id);
    assert.equal(cells.length, 4, `${id}: four columns (id, requirement, how, tests)`);
    assert.ok(cells[2]!.trim().length > 10, `${id}: says how Mandate meets it`);
    const refs = refsOf(cells[3]!);
    assert.ok(refs.length > 0, `${id}: names at least one test`);
    for (const ref of refs) assert.ok(titled(ref), `${id}: no test is titled "${ref}"`);
  }
});

test('every threat of the threat model names the tests of what bounds it, and each exists', () => {
  const threats = rowsOf('Threat model: agent delegation');
  assert.ok(threats.length >= 8, `${threats.length} threats`);
  for (const row of threats) {
    const cells = row.split(' | ');
    const threat = /\*\*([^*]+)\*\*/.exec(cells[0]!)?.[1] ?? cells[0]!;
    assert.equal(cells.length, 5, `${threat}: five columns`);
    const refs = refsOf(cells[4]!);
    assert.ok(refs.length > 0, `${threat}: names at least one test`);
    for (const ref of refs) assert.ok(titled(ref), `${threat}: no test is titled "${ref}"`);
  }
});
