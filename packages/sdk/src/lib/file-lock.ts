import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/**
 * Mutual exclusion on one file, within a process and across processes, for read-merge-write cycles that take
 * milliseconds. Within a process, holders of one path queue on a promise chain (so two objects on one file never
 * interleave). Across processes, the holder owns `<path>.lock`, created atomically and naming its host, pid and a
 * random nonce. A lock is stale when its process is gone (same host) or it is older than `staleMs`; a stale lock is
 * moved aside with an atomic rename and removed only if it is still the one judged stale.
 */

export interface FileLockOptions {
  /** A lock older than this is taken over even if its process may live (a holder never keeps it this long). */
  staleMs: number;
  /** Give up waiting after this long. */
  timeoutMs: number;
  /** Epoch milliseconds; injectable so that staleness and timeouts are testable without waiting. */
  now: () => number;
  /** Thrown when `timeoutMs` passes. */
  onTimeout: (lockPath: string) => Error;
}

interface LockContent {
  host: string;
  pid: number;
  nonce: string;
  createdAtMs: number;
}

const inProcess = new Map<string, Promise<unknown>>();

/** Runs `fn` while holding the lock on `path` (in this process and in every other). */
export function withFileLock<T>(path: string, options: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  const key = resolve(path);
  const previous = inProcess.get(key) ?? Promise.resolve();
  const run = previous.then(async () => {
    const release = await acquire(`${key}.lock`, options);
    try {
      return await fn();
    } finally {
      await release();
    }
  });
  const settled = run.catch(() => undefined);
  inProcess.set(key, settled);
  void settled.then(() => {
    if (inProcess.get(key) === settled) inProcess.delete(key);
  });
  return run;
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const startedMs = options.now();
  const mine: LockContent = { host: hostname(), pid: process.pid, nonce: randomBytes(12).toString('base64url'), createdAtMs: startedMs };
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(lockPath, { ...mine, createdAtMs: options.now() })) return () => releaseIfMine(lockPath, mine.nonce);
    const held = await readLock(lockPath);
    if (held === 'gone') continue;
    if (held === 'unreadable' ? await isOld(lockPath, options) : isStale(held, options)) {
      await breakStaleLock(lockPath, held);
      continue;
    }
    if (options.now() - startedMs >= options.timeoutMs) throw options.onTimeout(lockPath);
    // Short, growing, jittered waits: holders keep the lock for one small file write.
    await new Promise((done) => setTimeout(done, Math.min(50, 2 + attempt * 2) + Math.random() * 5));
  }
}

/**
 * Creates the lock with its content in one step: written to a private temporary file, then hard-linked to the lock
 * path (link fails if the path exists), so nobody ever reads a half-written lock.
 */
async function tryCreate(lockPath: string, content: LockContent): Promise<boolean> {
  const temporary = `${lockPath}.${content.nonce}.tmp`;
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(JSON.stringify(content));
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** A lock file that is not ours to read (garbage, or left by something else) is stale once old enough. */
async function isOld(lockPath: string, options: FileLockOptions): Promise<boolean> {
  try {
    return options.now() - (await stat(lockPath)).mtimeMs > options.staleMs;
  } catch {
    return false;
  }
}

async function readLock(lockPath: string): Promise<LockContent | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && typeof parsed.nonce === 'string' && typeof parsed.createdAtMs === 'number' && typeof parsed.host === 'string') {
      return parsed as LockContent;
    }
  } catch {
    // Not a lock we wrote; judged by its age.
  }
  return 'unreadable';
}

function isStale(lock: LockContent, options: FileLockOptions): boolean {
  if (options.now() - lock.createdAtMs > options.staleMs) return true;
  if (lock.host !== hostname()) return false;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Moves the lock aside, then checks that what was moved is the lock judged stale: if another process broke it and
 * took the lock meanwhile, its fresh lock is put back (link fails rather than overwrite a newer one).
 */
async function breakStaleLock(lockPath: string, judged: LockContent | 'unreadable'): Promise<void> {
  const aside = `${lockPath}.${randomBytes(6).toString('base64url')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readLock(aside);
  const same = judged === 'unreadable' ? moved === 'unreadable' || moved === 'gone' : moved !== 'gone' && moved !== 'unreadable' && moved.nonce === judged.nonce;
  if (!same) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function releaseIfMine(lockPath: string, nonce: string): Promise<void> {
  const held = await readLock(lockPath);
  if (held !== 'gone' && held !== 'unreadable' && held.nonce === nonce) await unlink(lockPath).catch(() => undefined);
}
