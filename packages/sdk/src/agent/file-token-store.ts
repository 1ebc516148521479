import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TokenStoreInsecure, TokenStoreLocked, TokenStoreMalformed } from '../errors.ts';
import { isJsonObject } from '../lib/fetch-json.ts';
import { type FileLockOptions, withFileLock } from '../lib/file-lock.ts';
import { randomUrlSafe } from './pkce.ts';
import { isDelegatedTokenSet } from './token-store.ts';
import type { DelegatedTokenSet, TokenStore } from './token-store.ts';

/** The file's JSON document. */
interface TokenFile {
  version: 1;
  tokens: Record<string, DelegatedTokenSet>;
  /**
   * Per key, SHA-256 hashes (base64url) of refresh tokens that a later set replaced: a set that brings one back is
   * stale (its holder read the file before the rotation) and is not written.
   */
  retiredRefreshTokens?: Record<string, string[]>;
}

/** How many retired refresh tokens are remembered per key. */
const RETIRED_PER_KEY = 16;

export interface FileTokenStoreOptions {
  /**
   * A lock file (`<path>.lock`) older than this is taken over even if the process that made it may still run.
   * Holders keep it for one small write. Default 30 s.
   */
  staleLockMs?: number;
  /** How long a write waits for the lock before `ERR_TOKEN_STORE_LOCKED`. Default 10 s. */
  lockTimeoutMs?: number;
  /** Epoch milliseconds, for lock ages and timeouts. Default `Date.now`; injectable for tests. */
  now?: () => number;
}

/**
 * A {@link TokenStore} in one JSON file, for agents that must keep a user's delegation across restarts (a CLI, a
 * daemon). It holds refresh tokens, so:
 * - the file is created with mode 0600 (its directory, if created, 0700) and replaced atomically: each write goes
 *   to a new temporary file beside it (`O_EXCL`, 0600), is fsynced, then renamed over it (and the directory
 *   fsynced), so a crash never leaves a half-written file and a reader never sees one;
 * - a file that is a symbolic link, not a regular file, owned by another user, or readable or writable by group
 *   or others is refused with `ERR_TOKEN_STORE_INSECURE` (fix it with `chmod 600`), never read or overwritten; so
 *   is a parent directory that is a symbolic link, owned by another user (other than root), or writable by group or
 *   others (they could swap the file).
 *
 * Writers are serialised: store objects on one file in one process queue behind each other, and processes take
 * a lock file (`<path>.lock`; a lock whose process is gone, or older than `staleLockMs`, is taken over). Each write
 * re-reads the file under the lock and changes only its own key, so no update is lost, and a set that would put
 * back a refresh token already replaced under that key (or an older `updatedAt`) is dropped: a stale refresh token
 * never overwrites a rotated one. (Ownership and mode checks are skipped on Windows, which has neither.)
 *
 * @example
 * const store = new FileTokenStore(join(homedir(), '.config', 'my-agent', 'tokens.json'));
 * const agent = new AgentAuthClient({ issuer, clientId, clientSecret, app: { clientId: 'app_…' }, tokenStore: store });
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;
  readonly #lock: FileLockOptions;

  constructor(path: string, options: FileTokenStoreOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
    const positive = (value: number | undefined, name: string, fallback: number) => {
      if (value === undefined) return fallback;
      if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number of milliseconds`);
      return value;
    };
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function');
    this.path = path;
    this.#lock = {
      staleMs: positive(options.staleLockMs, 'staleLockMs', 30_000),
      timeoutMs: positive(options.lockTimeoutMs, 'lockTimeoutMs', 10_000),
      now: options.now ?? Date.now,
      onTimeout: (lockPath) => new TokenStoreLocked(path, lockPath),
    };
  }

  async get(key: string): Promise<DelegatedTokenSet | undefined> {
    // Writes replace the file by rename, so a read needs no lock: it sees one whole version or the next.
    return (await this.#read()).tokens[key];
  }

  set(key: string, value: DelegatedTokenSet): Promise<void> {
    if (!isDelegatedTokenSet(value)) throw new TypeError('value must be a DelegatedTokenSet');
    return this.#update((file) => {
      const current = file.tokens[key];
      const retired = file.retiredRefreshTokens?.[key] ?? [];
      if (value.refreshToken !== undefined && retired.includes(refreshTokenHash(value.refreshToken))) return false;
      if (current !== undefined && current.updatedAt > value.updatedAt) return false;
      if (current?.refreshToken !== undefined && current.refreshToken !== value.refreshToken) {
        const list = [...retired, refreshTokenHash(current.refreshToken)].slice(-RETIRED_PER_KEY);
        file.retiredRefreshTokens = { ...file.retiredRefreshTokens, [key]: list };
      }
      file.tokens[key] = value;
      return true;
    });
  }

  delete(key: string): Promise<void> {
    return this.#update((file) => {
      if (!(key in file.tokens)) return false;
      // The retired hashes stay: a stale set of a deleted (revoked) set must not bring it back either.
      const current = file.tokens[key]!;
      if (current.refreshToken !== undefined) {
        const list = [...(file.retiredRefreshTokens?.[key] ?? []), refreshTokenHash(current.refreshToken)].slice(-RETIRED_PER_KEY);
        file.retiredRefreshTokens = { ...file.retiredRefreshTokens, [key]: list };
      }
      delete file.tokens[key];
      return true;
    });
  }

  /** Re-reads the file under the lock, lets `change` edit it, and writes it back if it says so. */
  async #update(change: (file: TokenFile) => boolean): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    // Before the lock file is made there: a directory others may write is not trusted with that either.
    await this.#checkDirectory();
    return withFileLock(this.path, this.#lock, async () => {
      const file = await this.#read();
      if (change(file)) await this.#write(file);
    });
  }

  async #checkDirectory(): Promise<void> {
    const directory = dirname(resolve(this.path));
    const stat = await lstat(directory);
    if (stat.isSymbolicLink()) throw new TokenStoreInsecure(this.path, `is in ${directory}, a symbolic link`);
    if (process.platform === 'win32') return;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid() && stat.uid !== 0) {
      throw new TokenStoreInsecure(this.path, `is in ${directory}, owned by another user`);
    }
    if ((stat.mode & 0o022) !== 0) {
      throw new TokenStoreInsecure(this.path, `is in ${directory}, which others may write (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; chmod 700 it)`);
    }
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
      await this.#checkDirectory();
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
    // The rename is durable only once the directory entry is (POSIX); Windows cannot open a directory.
    if (process.platform !== 'win32') {
      const directory = await open(dirname(this.path), constants.O_RDONLY);
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    }
  }
}

function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
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
  const retired = json['retiredRefreshTokens'];
  if (retired === undefined) return { version: 1, tokens };
  if (!isJsonObject(retired)) throw new TokenStoreMalformed(path);
  const retiredRefreshTokens = Object.create(null) as Record<string, string[]>;
  for (const [key, hashes] of Object.entries(retired)) {
    if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === 'string')) throw new TokenStoreMalformed(path);
    retiredRefreshTokens[key] = hashes as string[];
  }
  return { version: 1, tokens, retiredRefreshTokens };
}
