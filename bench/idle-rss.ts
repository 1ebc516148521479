/**
 * `npm run bench -- idle-rss` (issue 13 item 3): the resident memory of an idle server. `mandate serve` on a fresh
 * SQLite (production mode, its defaults) and the oidc-provider peer (lib-oidc-provider-peer.ts) are started, each
 * is waited for until it prints its ready line, and left alone for `--warmup` seconds (default 10) with one
 * discovery request at the start; then RSS is read (VmRSS) five times a second apart, the median reported.
 * Target: Mandate under 100 MB.
 */
import { discoverEndpoints } from './lib-fixture.ts';
import { machineInfo } from './lib-machine.ts';
import { startMandate } from './lib-mandate.ts';
import { writeMarkdown } from './lib-markdown.ts';
import { parseBenchOptions } from './lib-options.ts';
import { startPeer } from './lib-peer.ts';
import type { ServerProcess } from './lib-process.ts';
import { writeResults } from './lib-report.ts';

const TARGET_MB = 100;
const options = parseBenchOptions('idle-rss', process.argv.slice(2));
const startedAt = new Date();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function idleRss(server: ServerProcess): Promise<{ rssMB: number; readings: number[] }> {
  await discoverEndpoints(server.url);
  await sleep(options.warmupSeconds * 1000);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(server.rssBytes() / 1e6);
    await sleep(1000);
  }
  return { rssMB: [...readings].sort((a, b) => a - b)[2]!, readings };
}

const results: Record<string, { rssMB: number; readings: number[] }> = {};
if (options.servers.includes('mandate')) {
  const m = await startMandate({ core: null, profileDir: null, store: options.store });
  try {
    results['mandate'] = await idleRss(m.server);
  } finally {
    await m.close();
  }
}
if (options.servers.includes('oidc-provider')) {
  const p = await startPeer({ core: null, accessTokenFormat: 'jwt' });
  try {
    results['oidc-provider'] = await idleRss(p.server);
  } finally {
    await p.close();
  }
}
const mandate = results['mandate'];
const lines = Object.entries(results).map(([name, r]) => `| ${name} | ${r.rssMB.toFixed(0)} | ${r.readings.map((x) => x.toFixed(0)).join(', ')} |`);
const verdict = mandate ? `Mandate idle RSS ${mandate.rssMB.toFixed(0)} MB: target < ${TARGET_MB} MB ${mandate.rssMB < TARGET_MB ? 'holds' : 'MISSED'}` : 'Mandate not measured';
const table = ['| server | idle RSS MB (median) | readings MB |', '|---|---|---|', ...lines].join('\n');
console.log(`${table}\n\n${verdict} (after ${options.warmupSeconds} s idle; store ${options.store}).`);
const path = writeResults('idle-rss', startedAt, { benchmark: 'idle-rss', startedAt: startedAt.toISOString(), machine: machineInfo(), options, targetMB: TARGET_MB, results });
writeMarkdown(path, `# idle RSS (${startedAt.toISOString()})\n\n${table}\n\n${verdict} (after ${options.warmupSeconds} s idle; MB = 10⁶ bytes).\n`);
console.log(`\nResults written to ${path}`);
