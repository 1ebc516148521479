#!/usr/bin/env node
// The CLI is TypeScript, run by Node's type stripping (Node >= 22.18), from JavaScript stripped once into a cache
// (stripped-cache.js: the server then never loads the TypeScript parser). Invoked directly, this shebang may find an
// older system Node; then re-run under the node@24 the workspace installs as a dev dependency.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  const { useStrippedCache } = await import('./stripped-cache.js');
  useStrippedCache();
  await import('./run-cli.ts');
} else {
  let node;
  try {
    node = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
  } catch {
    process.stderr.write(`mandate needs Node >= 22.18 (found ${process.versions.node}); run \`npm install\` or use a newer Node\n`);
    process.exit(1);
  }
  const child = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
