import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The benchmark harness, functionally (not timed, nothing about speed is asserted): the `code` scenario against
 * Mandate alone for one second, unpinned. It exercises what the suite's stateful loads depend on: the setup signing
 * the user in and remembering consent over HTTP, and wrk's script queueing each code from the authorize redirect
 * and redeeming it; every response must be what the script expects (no non-2xx, no wrong body).
 */
const RUN = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));

test('bench: `code --servers mandate` completes code flows with no errors and writes its results', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-test-'));
  try {
    const args = [RUN, 'code', '--servers', 'mandate', '--unpinned', '--warmup', '1', '--duration', '1', '--rounds', '1', '--connections', '4'];
    const child = spawn(process.execPath, args, { env: { ...process.env, MANDATE_BENCH_RESULTS_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, out);
    const file = readdirSync(dir).find((f) => f.startsWith('code-') && f.endsWith('.json'));
    assert.ok(file, `no results file in ${dir}: ${out}`);
    const result = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { unit: string; summary: { name: string; requestsPerSecond: { median: number }; non2xx: number; wrongBody: number; socketErrors: number }[]; rounds: { mandate: { units: number }[] } };
    assert.equal(result.unit, 'code flows');
    const [mandate] = result.summary;
    assert.equal(mandate?.name, 'mandate');
    assert.deepEqual([mandate.non2xx, mandate.wrongBody, mandate.socketErrors], [0, 0, 0], out);
    assert.ok(result.rounds.mandate[0]!.units > 0, 'at least one complete flow');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
