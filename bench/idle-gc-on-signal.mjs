// Diagnostic preload for bench/lib-idle-rss.ts (with --expose-gc): SIGUSR2 runs one memory-reducing full GC, so
// that the idle RSS can be read both as the process left it and as small as V8 can make it. Never used in production.
process.on('SIGUSR2', () => globalThis.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
