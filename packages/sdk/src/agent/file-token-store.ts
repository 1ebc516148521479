import { createHash } from 'node:crypto';
import { TokenStoreInsecure, TokenStoreLocked, TokenStoreMalformed } from '../errors.ts';
import { isJsonObject } from '../lib/fetch-json.ts';
import { fileLockOptions, PrivateJsonFile } from '../lib/private-json-file.ts';
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
 * daemon). It holds refresh tokens, so it is a private file (`PrivateJsonFile`): created 0600 and replaced
 * atomically; a file that is a symbolic link, not a regular file, owned by another user, or readable or writable
 * by group or others is refused with `ERR_TOKEN_STORE_INSECURE` (fix it with `chmod 600`), never read or
 * overwritten; so is a parent directory that is a symbolic link, owned by another user (other than root), or
 * writable by group or others (they could swap the file).
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
  readonly #file: PrivateJsonFile<TokenFile>;

  constructor(path: string, options: FileTokenStoreOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
    this.path = path;
    this.#file = new PrivateJsonFile(path, {
      lock: fileLockOptions(options, (lockPath) => new TokenStoreLocked(path, lockPath)),
      empty: () => ({ version: 1, tokens: Object.create(null) as Record<string, DelegatedTokenSet> }),
      parse: (text) => parseTokenFile(path, text),
      insecure: (problem) => new TokenStoreInsecure(path, problem),
    });
  }

  async get(key: string): Promise<DelegatedTokenSet | undefined> {
    return (await this.#file.read()).tokens[key];
  }

  set(key: string, value: DelegatedTokenSet): Promise<void> {
    if (!isDelegatedTokenSet(value)) throw new TypeError('value must be a DelegatedTokenSet');
    return this.#file.update((file) => {
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
    return this.#file.update((file) => {
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
