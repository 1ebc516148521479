import { parseArgs } from 'node:util';
import { loadKek } from '../../keys/kek.ts';
import { openKeyCustody } from '../../keys/key-custody.ts';
import { KeyRing } from '../../keys/key-ring.ts';
import { rotateSigningKey } from '../../management/signing-keys.ts';
import { cliConfig, formatTime, output, table, UsageError, withManagement } from '../cli-context.ts';

export const keysHelp = `mandate keys <command>

  rotate [--publish-ahead <seconds>]
                          make a new signing key: it is published at once and starts signing after the
                          publish-ahead time (default keys.publishAheadSeconds, 600 s; 0 = at once, for a
                          compromised key), on every running server at that same instant. Running servers
                          publish it within keys.reloadIntervalSeconds. The old key signs until then and stays
                          in the JWKS until every token it signed has expired (the longest token lifetime).
                          Refused while an earlier rotation has not started signing yet.
  list                    list signing keys: whether each is published and which one signs

Both take --db <url> and --json.`;

export async function keysCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { db: { type: 'string' }, json: { type: 'boolean', default: false }, 'publish-ahead': { type: 'string' } } });
  const out = output(values.json);
  const config = cliConfig({ databaseUrl: values.db });
  if (sub !== 'rotate' && sub !== 'list') throw new UsageError(keysHelp);
  if (sub === 'list' && values['publish-ahead'] !== undefined) throw new UsageError(keysHelp);
  await withManagement(config, async (deps) => {
    // The same custody as the server's: with an external signer configured, a rotation makes the new key there.
    const custody = await openKeyCustody(config.keys, loadKek(config.keys));
    try {
      const ring = await KeyRing.open(deps.store, custody, config.keys.algorithm, () => deps.now);
      if (sub === 'list') {
        const keys = ring.list();
        const rows = [
          ['KID', 'ALG', 'STATUS', 'SIGNING', 'FROM', 'PUBLISHED', 'UNTIL'],
          ...keys.map((k) => [k.kid, k.alg, k.status, String(k.signing), formatTime(k.activates_at), String(k.published), formatTime(k.publish_until)]),
        ];
        return out.print(keys, table(rows));
      }
      const rotated = await rotateSigningKey(ring, deps, { publishAheadSeconds: values['publish-ahead'] });
      out.print(
        KeyRing.rotationView(rotated),
        `new key      ${rotated.kid} (published now, signs from ${formatTime(rotated.activatesAt)})\nretired key  ${rotated.retiredKid} (signs until then, published until ${formatTime(rotated.retiredPublishedUntil)})`,
      );
    } finally {
      await custody.close();
    }
  });
}
