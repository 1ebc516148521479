import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TokenStoreInsecure, TokenStoreMalformed } from '../errors.ts';
import { isJsonObject } from '../lib/fetch-json.ts';
import { randomUrlSafe } from './pkce.ts';
import { isDelegatedTokenSet } from './token-store.ts';
import type { DelegatedTokenSet, TokenStore } from './token-store.ts';

/** The file's JSON document. */
interface TokenFile {
  version: 1;
  tokens: Record<string, DelegatedTokenSet>;
}

/**
 * A {@link TokenStore} in one JSON file, for agents that must keep a user's delegation across restarts (a CLI, a
 * daemon). It holds refresh tokens, so:
 * - the file is created with mode 0600 (its directory, if created, 0700) and replaced atomically: each write goes
 *   to a new temporary file beside it (`O_EXCL`, 0600), is fsynced, then renamed over it, so a crash never leaves
 *   a half-written file and a reader never sees one;
 * - a file that is a symbolic link, not a regular file, owned by another user, or readable or writable by group
 *   or others is refused with `ERR_TOKEN_STORE_INSECURE` (fix it with `chmod 600`), never read or overwritten.
 *
 * Operations of one store object run one at a time; the file is re-read on each, so several store objects (or
 * processes) see each other's writes, but two processes writing at the same moment can lose one update: give each
 * agent process its own file. (Ownership and mode checks are skipped on Windows, which has neither.)
 *
 * @example
 * const store = new FileTokenStore(join(homedir(), '.config', 'my-agent', 'tokens.json'));
 * const agent = new AgentAuthClient({ issuer, clientId, clientSecret, app: { clientId: 'app_…' }, tokenStore: store });
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
    this.path = path;
  }

  get(key: string): Promise<DelegatedTokenSet | undefined> {
    return this.#serial(async () => (await this.#read()).tokens[key]);
  }

  set(key: string, value: DelegatedTokenSet): Promise<void> {
    if (!isDelegatedTokenSet(value)) throw new TypeError('value must be a DelegatedTokenSet');
    return this.#serial(async () => {
      const file = await this.#read();
      file.tokens[key] = value;
      await this.#write(file);
    });
  }

  delete(key: string): Promise<void> {
    return this.#serial(async () => {
      const file = await this.#read();
      if (!(key in file.tokens)) return;
      delete file.tokens[key];
      await this.#write(file);
    });
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(operation, operation);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #read(): Promise<TokenFile> {
    let handle;
    try {
      // O_NOFOLLOW: a symbolic link planted at the path is refused, not followed to someone else's file.
      handle = await open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { version: 1, tokens: Object.create(null) as Record<string, DelegatedTokenSet> };
      if (code === 'ELOOP') throw new TokenStoreInsecure(this.path, 'is a symbolic link');
      throw err;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new TokenStoreInsecure(this.path, 'is not a regular file');
      if (process.platform !== 'win32') {
        if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw new TokenStoreInsecure(this.path, 'is owned by another user');
        if ((stat.mode & 0o077) !== 0) {
          throw new TokenStoreInsecure(this.path, `can be read or written by others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; chmod 600 it)`);
        }
      }
      return parseTokenFile(this.path, await handle.readFile('utf8'));
    } finally {
      await handle.close();
    }
  }

  async #write(file: TokenFile): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${randomUrlSafe(9)}.tmp`;
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      try {
        await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw err;
    }
  }
}

function parseTokenFile(path: string, text: string): TokenFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TokenStoreMalformed(path, { cause });
  }
  if (!isJsonObject(json) || json['version'] !== 1 || !isJsonObject(json['tokens'])) throw new TokenStoreMalformed(path);
  const tokens = Object.create(null) as Record<string, DelegatedTokenSet>;
  for (const [key, value] of Object.entries(json['tokens'])) {
    if (!isDelegatedTokenSet(value)) throw new TokenStoreMalformed(path);
    tokens[key] = value;
  }
  return { version: 1, tokens };
}
