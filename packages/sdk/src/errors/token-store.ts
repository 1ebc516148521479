/** Errors of the file token store: a file others could read, one that is not a store, a lock held too long. */

import { MandateError } from './base.ts';

/**
 * A token store file that others could read or replace: not a regular file, not owned by this user, or readable or
 * writable by group or others. It is refused rather than used, since it holds refresh tokens.
 */
export class TokenStoreInsecure extends MandateError {
  declare readonly code: 'ERR_TOKEN_STORE_INSECURE';
  readonly path: string;
  constructor(path: string, problem: string) {
    super('ERR_TOKEN_STORE_INSECURE', `token store ${path} ${problem}`);
    this.path = path;
  }
}

/** A token store file that is not the JSON document the store writes. */
export class TokenStoreMalformed extends MandateError {
  declare readonly code: 'ERR_TOKEN_STORE_MALFORMED';
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super('ERR_TOKEN_STORE_MALFORMED', `token store ${path} is not a valid token store file`, options);
    this.path = path;
  }
}

/** Another writer held the token store's lock file longer than `lockTimeoutMs` (and it is not stale). */
export class TokenStoreLocked extends MandateError {
  declare readonly code: 'ERR_TOKEN_STORE_LOCKED';
  readonly path: string;
  readonly lockPath: string;
  constructor(path: string, lockPath: string) {
    super('ERR_TOKEN_STORE_LOCKED', `token store ${path} is locked by another writer (${lockPath})`);
    this.path = path;
    this.lockPath = lockPath;
  }
}
