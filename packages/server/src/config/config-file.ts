import { readFileSync } from 'node:fs';

import { ConfigError, fileSources, isPlainObject } from './resolve.ts';
import type { ConfigOverrides } from './schema.ts';

/**
 * A configuration file: one JSON object in the shape of the configuration (`{ "issuer": …, "tokens": {
 * "accessTokenTtlSeconds": 600 } }`), any part of it. Its values are checked with everything else by
 * `resolveConfig`, which names the file. A file that cannot be read or is not a JSON object is refused in one line
 * that quotes none of its text (it may hold the KEK).
 */
export function configFromFile(path: string): ConfigOverrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the configuration file ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    const before = position === undefined ? undefined : text.slice(0, Number(position)).split('\n');
    throw new ConfigError(`the configuration file ${path} is not valid JSON${before ? ` (line ${before.length}, column ${before.at(-1)!.length + 1})` : ''}`);
  }
  if (!isPlainObject(value)) throw new ConfigError(`the configuration file ${path} must hold a JSON object`);
  fileSources.set(value, `the configuration file ${path}`);
  return value as ConfigOverrides;
}
