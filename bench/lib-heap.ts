import { createServer } from 'node:net';

/**
 * V8's heap of a `mandate serve` started with its metrics listener (`MANDATE_METRICS_PORT`), from prom-client's
 * default gauges: what tells a leak (old space growing) from the young generation growing to its maximum, which
 * V8 does under a steady allocation rate and which RSS alone cannot tell apart. Space sizes are what V8 has
 * reserved for the space (`nodejs_heap_space_size_total_bytes`), old space used is live data plus garbage not yet
 * collected. MiB.
 */
export interface HeapSpaces {
  newMiB: number;
  oldMiB: number;
  oldUsedMiB: number;
}

/** A port free on 127.0.0.1 now (for the metrics listener). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function readHeapSpaces(metricsPort: number): Promise<HeapSpaces> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const gauge = (name: string, space: string) => {
    const value = new RegExp(`^${name}\\{space="${space}"\\} (\\S+)$`, 'm').exec(text)?.[1];
    if (value === undefined) throw new Error(`the metrics listener reported no ${name} for ${space} space`);
    return Number(value) / 2 ** 20;
  };
  return {
    newMiB: gauge('nodejs_heap_space_size_total_bytes', 'new'),
    oldMiB: gauge('nodejs_heap_space_size_total_bytes', 'old'),
    oldUsedMiB: gauge('nodejs_heap_space_size_used_bytes', 'old'),
  };
}
