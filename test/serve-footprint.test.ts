import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../packages/server/test/helpers/server.ts';
import { createTestDatabase, type Dialect } from '../packages/server/test/helpers/stores.ts';
import { mandateEnv, startServerProcess } from './helpers/processes.ts';

/**
 * Issue 13 item 3: an idle `mandate serve` stays small because what a deployment does not use is not loaded. These
 * tests record the modules a real `mandate serve` process resolves (a preload, test/helpers/record-loaded-modules.mjs)
 * and check that each optional library is loaded exactly when its feature is configured, so that the saving cannot
 * go away silently. Not timed: they look at what was loaded, not at how big it was.
 */

const RECORDER = fileURLToPath(new URL('./helpers/record-loaded-modules.mjs', import.meta.url));

/** Libraries a deployment may never use, each loaded at its feature's first use (or when configured). */
const OPTIONAL = {
  pg: /\/node_modules\/pg\//,
  'prom-client': /\/node_modules\/prom-client\//,
  '@simplewebauthn/server': /\/node_modules\/@simplewebauthn\/server\//,
  oauth4webapi: /\/node_modules\/oauth4webapi\//,
  'ajv (Fastify schema compilers)': /\/node_modules\/ajv\//,
  // Verifies others' JWTs only: client assertions, trusted issuers' grants, software statements, upstream ID tokens.
  jose: /\/node_modules\/jose\//,
};

interface Loaded {
  resolved: string[];
  internal: string[];
}

/** What `mandate serve` on a fresh database of `dialect` loaded from its start until it was stopped, idle. */
async function loadedByIdleServe(dialect: Dialect, extraEnv: NodeJS.ProcessEnv = {}): Promise<Loaded> {
  const database = await createTestDatabase(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'mandate-footprint-'));
  try {
    const file = join(dir, 'loaded.json');
    const server = await startServerProcess(await freePort(), { ...mandateEnv(database.url), ...extraEnv, LOADED_MODULES_FILE: file }, ['--import', RECORDER]);
    // Idle: the server has started (store, keys, app, listener) and answered nothing.
    await server.stop();
    return JSON.parse(readFileSync(file, 'utf8')) as Loaded;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
  }
}

const loadedLibraries = ({ resolved }: Loaded) =>
  Object.entries(OPTIONAL)
    .filter(([, pattern]) => resolved.some((url) => pattern.test(url)))
    .map(([name]) => name);

describe('mandate serve loads only what its configuration uses', () => {
  test('on SQLite, without metrics, passkeys used or upstream login: no pg, prom-client, @simplewebauthn/server, oauth4webapi, ajv or jose, and no TypeScript parser', async () => {
    const loaded = await loadedByIdleServe('sqlite');
    assert.ok(loaded.resolved.some((url) => url.includes('/node_modules/fastify/')), 'the recorder saw the server load (fastify)');
    assert.deepEqual(loadedLibraries(loaded), []);
    // The launcher (bin/mandate.js) hands Node the stripped JavaScript: Node's TypeScript parser (amaro) never loads.
    assert.deepEqual(
      loaded.internal.filter((name) => /amaro/.test(name)),
      [],
    );
  });

  test('metrics configured: prom-client is loaded (the recorder sees an optional library when it is used)', async () => {
    const loaded = await loadedByIdleServe('sqlite', { MANDATE_METRICS_PORT: String(await freePort()) });
    assert.deepEqual(loadedLibraries(loaded), ['prom-client']);
  });

  test('on PostgreSQL: pg is loaded, and nothing else optional', async () => {
    assert.deepEqual(loadedLibraries(await loadedByIdleServe('postgres')), ['pg']);
  });
});
