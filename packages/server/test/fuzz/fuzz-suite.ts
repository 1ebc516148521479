import { documentTargets, DocumentServer } from './document-targets.ts';
import { endpointTargets } from './endpoint-targets.ts';
import { consoleSession, formTargets } from './form-targets.ts';
import { runTarget, type TargetSummary } from './fuzz-harness.ts';
import { buildWorld } from './fuzz-world.ts';
import { proofTargets } from './proof-targets.ts';
import { successTargets } from './success-targets.ts';

/** Every fuzz target, in the order they run. */
export const TARGET_COUNT = endpointTargets.length + successTargets.length + proofTargets.length + 5;

/**
 * Runs every target for `runsPerTarget` inputs against one fresh server on the database at `databaseUrl`
 * (`npm test` with a few inputs each, `npm run fuzz` with thousands). `onTarget` reports each summary as it ends;
 * `only` picks targets by name (all by default); `runsPerTarget` may depend on the target's name.
 */
export async function fuzzStore(
  databaseUrl: string,
  runsPerTarget: number | ((target: string) => number),
  seed: number,
  onTarget: (summary: TargetSummary) => void = () => {},
  only: (target: string) => boolean = () => true,
): Promise<TargetSummary[]> {
  const documents = new DocumentServer();
  await documents.start();
  const world = await buildWorld({ url: databaseUrl });
  const summaries: TargetSummary[] = [];
  try {
    const session = await consoleSession(world);
    for (const target of [...endpointTargets, ...successTargets, ...proofTargets, ...documentTargets(documents), ...formTargets(() => session)]) {
      if (!only(target.name)) continue;
      const summary = await runTarget(world, databaseUrl, target, typeof runsPerTarget === 'number' ? runsPerTarget : runsPerTarget(target.name), seed);
      summaries.push(summary);
      onTarget(summary);
    }
  } finally {
    await world.server.close();
    await documents.close();
  }
  return summaries;
}
