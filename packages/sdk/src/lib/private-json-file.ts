import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type FileLockOptions, withFileLock } from './file-lock.ts';

/** How a {@link PrivateJsonFile} reads its document and reports an unsafe file. */
export interface PrivateJsonFileOptions<T> {
  lock: FileLockOptions;
  /** The document of a file that does not exist yet. */
  empty(): T;
  /** Parses the file's text; throws the caller's "malformed" error. */
  parse(text: string): T;
  /** The error for a file (or directory) others could read or replace. */
  insecure(problem: string): Error;
}

/**
 * One JSON document in a file only this user can read, for credentials kept across runs (refresh tokens, client
 * registrations):
 * - the file is created with mode 0600 (its directory, if created, 0700) and replaced atomically: each write goes
 *   to a new temporary file beside it (`O_EXCL`, 0600), is fsynced, then renamed over it (and the directory
 *   fsynced), so a crash never leaves a half-written file and a reader never sees one;
 * - a file that is a symbolic link, not a regular file, owned by another user, or readable or writable by group or
 *   others is refused (the `insecure` error), never read or overwritten; so is a parent directory that is a symbolic
 *   link, owned by another user (other than root), or writable by group or others (they could swap the file);
 * - writers are serialised (in this process and across processes, `<path>.lock`), and each update re-reads the
 *   file under the lock, so no update is lost.
 *
 * Ownership and mode checks are skipped on Windows, which has neither.
 */
export class PrivateJsonFile<T> {
  readonly path: string;
  readonly #options: PrivateJsonFileOptions<T>;

  constructor(path: string, options: PrivateJsonFileOptions<T>) {
    this.path = path;
    this.#options = options;
  }

  /** The document. Writes replace the file by rename, so a read needs no lock: it sees one whole version or the next. */
  async read(): Promise<T> {
    let handle;
    try {
      // O_NOFOLLOW: a symbolic link planted at the path is refused, not followed to someone else's file.
      handle = await open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return this.#options.empty();
      if (code === 'ELOOP') throw this.#options.insecure('is a symbolic link');
      throw err;
    }
    try {
      await this.#checkDirectory();
      const stat = await handle.stat();
      if (!stat.isFile()) throw this.#options.insecure('is not a regular file');
      if (process.platform !== 'win32') {
        if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw this.#options.insecure('is owned by another user');
        if ((stat.mode & 0o077) !== 0) {
          throw this.#options.insecure(`can be read or written by others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; chmod 600 it)`);
        }
      }
      return this.#options.parse(await handle.readFile('utf8'));
    } finally {
      await handle.close();
    }
  }

  /** Re-reads the file under the lock, lets `change` edit the document, and writes it back if it says so. */
  async update(change: (document: T) => boolean): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    // Before the lock file is made there: a directory others may write is not trusted with that either.
    await this.#checkDirectory();
    return withFileLock(this.path, this.#options.lock, async () => {
      const document = await this.read();
      if (change(document)) await this.#write(document);
    });
  }

  async #checkDirectory(): Promise<void> {
    const directory = dirname(resolve(this.path));
    const stat = await lstat(directory);
    if (stat.isSymbolicLink()) throw this.#options.insecure(`is in ${directory}, a symbolic link`);
    if (process.platform === 'win32') return;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid() && stat.uid !== 0) {
      throw this.#options.insecure(`is in ${directory}, owned by another user`);
    }
    if ((stat.mode & 0o022) !== 0) {
      throw this.#options.insecure(`is in ${directory}, which others may write (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; chmod 700 it)`);
    }
  }

  async #write(document: T): Promise<void> {
    const temporary = `${this.path}.${randomBytes(9).toString('base64url')}.tmp`;
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      try {
        await handle.writeFile(`${JSON.stringify(document, null, 2)}\n`);
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

/** Lock options from a store's public ones: positive milliseconds, defaults 30 s stale and 10 s timeout. */
export function fileLockOptions(
  options: { staleLockMs?: number; lockTimeoutMs?: number; now?: () => number },
  onTimeout: (lockPath: string) => Error,
): FileLockOptions {
  const positive = (value: number | undefined, name: string, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number of milliseconds`);
    return value;
  };
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function');
  return {
    staleMs: positive(options.staleLockMs, 'staleLockMs', 30_000),
    timeoutMs: positive(options.lockTimeoutMs, 'lockTimeoutMs', 10_000),
    now: options.now ?? Date.now,
    onTimeout,
  };
}
