/**
 * `npm run bench -- <name>`: runs `bench/<name>.ts`. Each benchmark measures Mandate next to a peer in the same
 * run, prints both figures and their ratio, and writes JSON under `bench/results/`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .filter((name) => !name.startsWith('lib-'));
// `npm run bench -- --quick` (options only) is the whole suite: `all --quick`.
const name = process.argv[2]?.startsWith('--') ? 'all' : process.argv[2];
if (!name || !available.includes(name) || !existsSync(`${here}${name}.ts`)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]   (npm run bench -- --quick: all --quick)`);
  process.exit(2);
}
if (process.argv[2] === name) process.argv.splice(2, 1);
await import(`./${name}.ts`);
