// Mandate is TypeScript run by Node's type stripping. Stripping loads a WebAssembly TypeScript parser (amaro) into
// the process at the first .ts file, and it stays there: ~17 MB, and ~30 MB of an idle `mandate serve` counting what
// stripping each module allocates. So the launcher strips each source file once, in a child process, into a cache
// keyed by the SHA-256 of its text, and a load hook hands Node the cached JavaScript: the parser never loads in the
// server. A file without its cache entry (the cache not writable, a file changed while running) is left to Node's
// own type stripping, which is slower to start and heavier but otherwise the same: the cache is only ever a copy.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const serverPackage = fileURLToPath(new URL('../', import.meta.url));
/** Inside the package (never a shared temporary directory: what is in it runs), per Node version (its stripper). */
const cacheDir = join(serverPackage, 'node_modules', '.cache', 'mandate-stripped', process.version);

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** The TypeScript files a command may load: the server's bin/ and src/, and @mandate/protocol's src/. */
function sourceFiles() {
  const roots = [join(serverPackage, 'bin'), join(serverPackage, 'src'), dirname(fileURLToPath(import.meta.resolve('@mandate/protocol')))];
  return roots.flatMap((root) =>
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
      .map((entry) => join(entry.parentPath, entry.name)),
  );
}

/** Each source file's cache entry name, by the SHA-256 of its text. */
function wantedEntries() {
  return new Map(sourceFiles().map((file) => [`${sha256(readFileSync(file))}.js`, file]));
}

function cachedEntries() {
  try {
    return new Set(readdirSync(cacheDir));
  } catch {
    return new Set();
  }
}

/** Whether a source file has no entry yet: then a child process fills the cache (the parser loads there, not here). */
function fillCache() {
  const cached = cachedEntries();
  if ([...wantedEntries().keys()].every((entry) => cached.has(entry))) return;
  // Best effort: if the child cannot write (a read-only install), the hook finds no entries and Node strips.
  spawnSync(process.execPath, ['--no-warnings', fileURLToPath(import.meta.url), '--fill'], { stdio: 'ignore' });
}

/**
 * The child: strips each file without an entry and removes the entries of texts that are gone (edited files). A
 * file Node could not strip either is skipped: Node reports it when it loads it.
 */
function fill() {
  mkdirSync(cacheDir, { recursive: true });
  const wanted = wantedEntries();
  const cached = cachedEntries();
  for (const [entry, file] of wanted) {
    if (cached.has(entry)) continue;
    let code;
    try {
      code = stripTypeScriptTypes(readFileSync(file, 'utf8'), { mode: 'strip' });
    } catch {
      continue;
    }
    // Written whole, then renamed: a concurrent reader (another instance starting) sees no entry or a whole one.
    const temporary = join(cacheDir, `${entry}.${process.pid}.tmp`);
    writeFileSync(temporary, code);
    renameSync(temporary, join(cacheDir, entry));
  }
  for (const entry of cached) if (!wanted.has(entry) && entry.endsWith('.js')) rmSync(join(cacheDir, entry), { force: true });
}

/** Fills the cache, then serves .ts modules from it for the rest of this process. */
export function useStrippedCache() {
  try {
    fillCache();
  } catch {
    return; // nothing cached: Node strips, as it would without this
  }
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('file:') && url.endsWith('.ts')) {
        let source;
        try {
          source = readFileSync(fileURLToPath(url));
          return { format: 'module', source: readFileSync(join(cacheDir, `${sha256(source)}.js`), 'utf8'), shortCircuit: true };
        } catch {
          // no entry for this text: Node's own stripping below
        }
      }
      return nextLoad(url, context);
    },
  });
}

if (process.argv[2] === '--fill' && fileURLToPath(import.meta.url) === process.argv[1]) fill();
