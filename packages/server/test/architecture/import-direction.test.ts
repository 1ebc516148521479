import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers of `packages/server/src`, top first. A module may import from its own folder (or file) and from any
 * layer below its own; never from a layer above, and never from another folder of its own layer (those are peers
 * that know nothing of each other). docs/architecture.md shows this same table; a test below keeps the two equal.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli/', 'index.ts'],
  ['server.ts'],
  ['app.ts'],
  ['app/'],
  ['endpoints/'],
  ['http/'],
  ['grants/', 'flows/', 'management/'],
  ['users/'],
  ['lifecycle/'],
  ['policy/'],
  ['oauth/'],
  ['tokens/'],
  ['keys/', 'audit/', 'ui/'],
  ['store/'],
  ['config.ts'],
  ['config/'],
];

/** Paths are relative to the source root, with `/` separators: `grants/client-credentials.ts`. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export interface Violation {
  from: string;
  to: string | null;
  reason: string;
}

/** The layer entry (folder or file) a module belongs to, and its rank (0 = top), or null when no layer claims it. */
export function placeOf(path: string, layers: readonly (readonly string[])[] = LAYERS): { rank: number; unit: string } | null {
  for (const [rank, units] of layers.entries()) {
    for (const unit of units) if (unit.endsWith('/') ? path.startsWith(unit) : path === unit) return { rank, unit };
  }
  return null;
}

/** Every import that runs up the table or sideways between peers, and every module no layer claims. */
export function findViolations(graph: ImportGraph, layers: readonly (readonly string[])[] = LAYERS): Violation[] {
  const violations: Violation[] = [];
  for (const [from, imports] of graph) {
    const source = placeOf(from, layers);
    if (!source) {
      violations.push({ from, to: null, reason: 'belongs to no layer: add its folder to the table' });
      continue;
    }
    for (const to of imports) {
      const target = placeOf(to, layers);
      if (!target || target.unit === source.unit) continue;
      if (target.rank < source.rank) violations.push({ from, to, reason: `${source.unit} imports from ${target.unit}, a layer above it` });
      else if (target.rank === source.rank) violations.push({ from, to, reason: `${source.unit} imports from its peer ${target.unit}` });
    }
  }
  return violations;
}

/** The relative imports and re-exports (static, dynamic and type-only) of every .ts file below `root`. */
export function readImportGraph(root: string): ImportGraph {
  const graph = new Map<string, string[]>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts')) {
        const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
        const targets = importedFiles
          .map((file) => file.fileName)
          .filter((name) => name.startsWith('.'))
          .map((name) => relative(root, resolve(dirname(path), name)).split('\\').join('/'));
        graph.set(relative(root, path).split('\\').join('/'), targets);
      }
    }
  };
  visit(root);
  return graph;
}

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE_ROOT = resolve(here, '../../src');
const ARCHITECTURE_DOC = resolve(here, '../../../../docs/architecture.md');

describe('import direction of packages/server/src', () => {
  test('every module belongs to a layer, and no import runs up the table or between peers', () => {
    const graph = readImportGraph(SOURCE_ROOT);
    assert.ok(graph.size > 100, `read only ${graph.size} modules`);
    assert.ok(graph.get('app.ts')?.some((to) => to.startsWith('endpoints/')), 'the import graph names app.ts → endpoints/');
    assert.deepEqual(
      findViolations(graph).map((v) => `${v.from} → ${v.to ?? '?'}: ${v.reason}`),
      [],
    );
  });

  test('a grant or flow importing from http/ or endpoints/ is reported', () => {
    const graph: ImportGraph = new Map([
      ['grants/client-credentials.ts', ['http/route.ts', 'oauth/oauth-error.ts', 'grants/grant.ts', 'tokens/access-token.ts']],
      ['flows/introspection.ts', ['endpoints/token.ts', 'store/store.ts']],
      ['oauth/client-authentication.ts', ['http/request-form.ts']],
    ]);
    assert.deepEqual(findViolations(graph), [
      { from: 'grants/client-credentials.ts', to: 'http/route.ts', reason: 'grants/ imports from http/, a layer above it' },
      { from: 'flows/introspection.ts', to: 'endpoints/token.ts', reason: 'flows/ imports from endpoints/, a layer above it' },
      { from: 'oauth/client-authentication.ts', to: 'http/request-form.ts', reason: 'oauth/ imports from http/, a layer above it' },
    ]);
  });

  test('peers of one layer may not import each other; a module outside every layer is reported', () => {
    const graph: ImportGraph = new Map([
      ['flows/authorize.ts', ['grants/user-tokens.ts', 'flows/pending-authorization.ts', 'policy/token-targets.ts']],
      ['tokens/jwt.ts', ['keys/key-ring.ts', 'config.ts']],
      ['keys/key-ring.ts', ['audit/audit-log.ts']],
      ['helpers/misc.ts', ['store/store.ts']],
    ]);
    assert.deepEqual(
      findViolations(graph).map((v) => `${v.from} → ${v.to ?? '?'}`),
      ['flows/authorize.ts → grants/user-tokens.ts', 'keys/key-ring.ts → audit/audit-log.ts', 'helpers/misc.ts → ?'],
    );
  });

  test('docs/architecture.md shows the same layer table', () => {
    const doc = readFileSync(ARCHITECTURE_DOC, 'utf8');
    const start = doc.indexOf('<!-- layers -->');
    const end = doc.indexOf('<!-- /layers -->');
    assert.ok(start >= 0 && end > start, 'docs/architecture.md marks its layer table with <!-- layers --> … <!-- /layers -->');
    const rows = doc
      .slice(start, end)
      .split('\n')
      .filter((line) => /^\|\s*\d+\s*\|/.test(line))
      .map((line) => [...line.split('|')[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    assert.deepEqual(rows, LAYERS.map((units) => [...units]));
  });
});
