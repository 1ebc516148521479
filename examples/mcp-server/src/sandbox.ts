import { constants } from 'node:fs';
import { mkdir, open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';

/**
 * The directory the file tools may touch, and nothing outside it. A path from a tool call is refused when it is
 * absolute, contains a `..` segment, a backslash or a NUL; and after symlinks are resolved (`realpath`) it must
 * still lie inside the sandbox, so a symlink inside pointing out is refused too. The final component is opened with
 * `O_NOFOLLOW`, so swapping it for a symlink between the check and the open fails instead of escaping, and with
 * `O_NONBLOCK`, so a FIFO cannot hang a tool call.
 *
 * What remains: a directory component replaced by a symlink between `realpath` and `open` (a race needing write
 * access to the sandbox from outside this server). A production server would use `openat2(RESOLVE_BENEATH)` or a
 * container; this demo keeps to node:fs.
 */

/** A refusal a tool reports to its caller: the message names the caller's path, never the server's layout. */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

export interface SandboxEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Bytes, for files. */
  size?: number;
}

export interface SandboxLimits {
  /** Largest file read_file returns, and write_file writes. Default 256 KiB. */
  maxFileBytes: number;
  /** Most entries list_files returns. Default 1,000. */
  maxEntries: number;
}

const defaultLimits: SandboxLimits = { maxFileBytes: 256 * 1024, maxEntries: 1000 };

/**
 * A path as the caller gave it, checked and normalised to a relative path inside the sandbox (`.` for its root).
 * Pure: it looks only at the string.
 */
export function checkSandboxPath(path: unknown): string {
  if (typeof path !== 'string') throw new SandboxError('path must be a string');
  if (path.length > 1024) throw new SandboxError('path is too long');
  if (path.includes('\0')) throw new SandboxError('path must not contain NUL');
  if (path.includes('\\')) throw new SandboxError('path must use / as separator');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw new SandboxError(`absolute paths are refused: ${path}`);
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new SandboxError(`path traversal is refused: ${path}`);
  return segments.length === 0 ? '.' : segments.join('/');
}

export class Sandbox {
  /** The sandbox directory, symlinks resolved. */
  readonly root: string;
  readonly limits: SandboxLimits;

  private constructor(root: string, limits: SandboxLimits) {
    this.root = root;
    this.limits = limits;
  }

  /** Opens a sandbox on an existing directory. */
  static async open(directory: string, limits: Partial<SandboxLimits> = {}): Promise<Sandbox> {
    const root = await realpath(directory);
    if (!(await stat(root)).isDirectory()) throw new TypeError(`sandbox ${directory} is not a directory`);
    return new Sandbox(root, { ...defaultLimits, ...limits });
  }

  /** The real path of an existing file or directory, refused unless it lies inside the sandbox. */
  async locate(path: unknown): Promise<string> {
    return this.#existing(checkSandboxPath(path));
  }

  /** Entries of a directory in the sandbox, sorted by name. Symlinks are listed, not followed. */
  async list(path: unknown = '.'): Promise<{ path: string; entries: SandboxEntry[]; truncated: boolean }> {
    const relative = checkSandboxPath(path);
    const directory = await this.#existing(relative);
    const dirents = await readdir(directory, { withFileTypes: true }).catch((err) => fail(err, relative));
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const entries: SandboxEntry[] = [];
    for (const dirent of dirents.slice(0, this.limits.maxEntries)) {
      const type = dirent.isFile() ? 'file' : dirent.isDirectory() ? 'directory' : dirent.isSymbolicLink() ? 'symlink' : 'other';
      const entry: SandboxEntry = { name: dirent.name, type };
      if (type === 'file') entry.size = (await stat(join(directory, dirent.name))).size;
      entries.push(entry);
    }
    return { path: relative, entries, truncated: dirents.length > entries.length };
  }

  /** A UTF-8 text file in the sandbox. */
  async read(path: unknown): Promise<string> {
    const relative = checkSandboxPath(path);
    const file = await this.#existing(relative);
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err) => fail(err, relative));
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new SandboxError(`not a file: ${relative}`);
      if (info.size > this.limits.maxFileBytes) throw new SandboxError(`${relative} is larger than ${this.limits.maxFileBytes} bytes`);
      const bytes = await handle.readFile();
      if (bytes.includes(0)) throw new SandboxError(`${relative} is a binary file`);
      return bytes.toString('utf8');
    } finally {
      await handle.close();
    }
  }

  /** Creates or replaces a file in the sandbox (creating its directories); never follows a symlink to do so. */
  async write(path: unknown, content: unknown): Promise<{ path: string; bytes: number }> {
    const relative = checkSandboxPath(path);
    if (relative === '.') throw new SandboxError('path must name a file');
    if (typeof content !== 'string') throw new SandboxError('content must be a string');
    const bytes = Buffer.byteLength(content);
    if (bytes > this.limits.maxFileBytes) throw new SandboxError(`content is larger than ${this.limits.maxFileBytes} bytes`);
    const parent = dirname(relative);
    await this.#existingAncestor(parent);
    await mkdir(join(this.root, parent), { recursive: true }).catch((err) => fail(err, parent));
    const directory = await this.#existing(parent);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    const handle = await open(join(directory, basename(relative)), flags, 0o644).catch((err) => fail(err, relative));
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return { path: relative, bytes };
  }

  /** The real path of an existing entry, refused unless it lies inside the sandbox. */
  async #existing(relative: string): Promise<string> {
    const real = await realpath(join(this.root, relative)).catch((err) => fail(err, relative));
    if (!this.#contains(real)) throw new SandboxError(`${relative} resolves outside the sandbox`);
    return real;
  }

  /** Checks the deepest existing ancestor of a directory about to be created, so mkdir cannot follow a link out. */
  async #existingAncestor(relative: string): Promise<void> {
    let current = relative;
    for (;;) {
      let real: string;
      try {
        real = await realpath(join(this.root, current));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && current !== '.') {
          current = dirname(current);
          continue;
        }
        fail(err, relative);
      }
      if (!this.#contains(real)) throw new SandboxError(`${relative} resolves outside the sandbox`);
      return;
    }
  }

  #contains(real: string): boolean {
    return real === this.root || real.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }
}

/**
 * Turns a filesystem error into a refusal that names the caller's path. Node's own messages name the absolute path
 * (`ENAMETOOLONG: name too long, realpath '/srv/…'`), so no errno error leaves with its message (SR-14).
 */
function fail(err: unknown, relative: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      throw new SandboxError(`no such file or directory: ${relative}`);
    case 'ENOTDIR':
    case 'EEXIST': // mkdir of a path whose ancestor is a file
      throw new SandboxError(`not a directory: ${relative}`);
    case 'EISDIR':
      throw new SandboxError(`is a directory: ${relative}`);
    case 'ELOOP':
      throw new SandboxError(`${relative} is a symlink; the file tools do not follow symlinks here`);
    case 'ENXIO':
      throw new SandboxError(`not a regular file: ${relative}`);
    case 'EACCES':
    case 'EPERM':
      throw new SandboxError(`permission denied: ${relative}`);
    case 'ENAMETOOLONG':
      throw new SandboxError(`name too long: ${relative}`);
    default:
      if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new SandboxError(`cannot access ${relative} (${code})`);
      throw err;
  }
}
