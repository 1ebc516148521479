// Preloaded (`node --import`) into a process under test: records every module the process resolves, and writes
// them with Node's list of its own internal modules to $LOADED_MODULES_FILE when the process exits. JavaScript, not
// TypeScript, because a .ts preload would itself load the TypeScript parser that serve-footprint.test.ts looks for.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const resolved = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.add(result.url);
    return result;
  },
});
process.on('exit', () => {
  writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify({ resolved: [...resolved], internal: process.moduleLoadList }));
});
