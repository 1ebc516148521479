import { parseArgs } from 'node:util';
import { loadKek } from '../../keys/kek.ts';
import { KeyRing } from '../../keys/key-ring.ts';
import { rotateSigningKey } from '../../management/signing-keys.ts';
import { cliConfig, formatTime, output, table, UsageError, withManagement } from '../cli-context.ts';

export const keysHelp = `mandate keys <command>

  rotate                  make a new signing key active; the old one stays in the JWKS until every token
                          it signed has expired (the longest token lifetime). Running servers pick the new
                          key up within keys.reloadIntervalSeconds.
  list                    list signing keys and whether each is published

Both take --db <url> and --json.`;

export async function keysCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { db: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const out = output(values.json);
  const config = cliConfig({ databaseUrl: values.db });
  if (sub !== 'rotate' && sub !== 'list') throw new UsageError(keysHelp);
  await withManagement(config, async (deps) => {
    const ring = await KeyRing.open(deps.store, loadKek(config.keys), config.keys.algorithm, () => deps.now);
    if (sub === 'list') {
      const keys = ring.list();
      const rows = [['KID', 'ALG', 'STATUS', 'PUBLISHED', 'UNTIL'], ...keys.map((k) => [k.kid, k.alg, k.status, String(k.published), formatTime(k.publish_until)])];
      return out.print(keys, table(rows));
    }
    const rotated = await rotateSigningKey(ring, deps);
    out.print(KeyRing.rotationView(rotated), `active key   ${rotated.kid}\nretired key  ${rotated.retiredKid} (published until ${formatTime(rotated.retiredPublishedUntil)})`);
  });
}
