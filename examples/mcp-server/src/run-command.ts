import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from './sandbox.ts';

/**
 * `run_command`: runs one allow-listed program, never a shell. The command line is split into words here (quotes
 * group words; `$`, globs, `;`, `|`, `>` and backslashes mean nothing), the program must be on the allow-list, and
 * each of its arguments must pass that program's own check: `date -f FILE` would read any file and `ls /` would
 * list outside the sandbox, so an allow-list of program names alone is not enough.
 *
 * The program is found in /usr/bin or /bin (not through the caller's PATH), runs in the sandbox with an empty
 * environment (the server's own, which holds its introspection API key, is not passed on), is killed after
 * `timeoutMs`, and its output is capped at `maxOutputBytes`.
 */

/** A refusal reported to the caller as the tool's error. */
export class CommandRefused extends Error {
  override readonly name = 'CommandRefused';
}

export interface CommandResult {
  command: string;
  args: string[];
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timed_out: boolean;
  truncated: boolean;
}

export interface RunOptions {
  sandbox: Sandbox;
  timeoutMs?: number;
  maxOutputBytes?: number;
}

type ArgumentCheck = (args: string[], sandbox: Sandbox) => Promise<string | undefined>;

const onlyFlags =
  (pattern: RegExp, max = 4): ArgumentCheck =>
  async (args) => {
    if (args.length > max) return `at most ${max} arguments`;
    const bad = args.find((a) => !pattern.test(a));
    return bad === undefined ? undefined : `argument ${JSON.stringify(bad)} is not allowed`;
  };

/** The programs `run_command` may start, and what each may be given. */
export const allowedCommands: Readonly<Record<string, { description: string; check: ArgumentCheck }>> = {
  date: {
    description: 'date [-u] [-R] [-I[date|hours|minutes|seconds]] [+FORMAT]',
    check: onlyFlags(/^(-u|--utc|-R|-I(date|hours|minutes|seconds)?|\+[^\n]{0,100})$/),
  },
  echo: {
    description: 'echo WORDS…',
    check: async (args) => (args.length > 50 || args.some((a) => a.length > 500) ? 'too many or too long arguments' : undefined),
  },
  uname: { description: 'uname [-asnrvmo]', check: onlyFlags(/^-[asnrvmo]+$/) },
  uptime: { description: 'uptime [-p] [-s]', check: onlyFlags(/^(-p|--pretty|-s|--since)$/) },
  whoami: { description: 'whoami', check: onlyFlags(/^$/, 0) },
  ls: {
    description: 'ls [-lah1tS] [PATH…] (paths inside the sandbox)',
    async check(args, sandbox) {
      if (args.length > 10) return 'at most 10 arguments';
      for (const arg of args) {
        if (arg.startsWith('-')) {
          if (!/^-[lah1tS]+$/.test(arg)) return `option ${JSON.stringify(arg)} is not allowed`;
          continue;
        }
        try {
          await sandbox.locate(arg);
        } catch (err) {
          return (err as Error).message;
        }
      }
      return undefined;
    },
  },
};

/**
 * Splits a command line into words as a user would type them, without any shell meaning: blanks separate words,
 * '…' and "…" group them (no escapes inside), everything else is literal. Unbalanced quotes are refused.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  let quote: '"' | "'" | undefined;
  for (const char of line) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current ??= '';
    } else if (/\s/.test(char)) {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + char;
    }
  }
  if (quote !== undefined) throw new CommandRefused('unbalanced quote in command');
  if (current !== undefined) words.push(current);
  return words;
}

/** Absolute path of an allow-listed program, from fixed system directories only. */
function locateProgram(name: string): string | undefined {
  for (const directory of ['/usr/bin', '/bin']) {
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next directory
    }
  }
  return undefined;
}

/** Checks a command line against the allow-list and runs it; refusals throw {@link CommandRefused}. */
export async function runAllowedCommand(line: unknown, options: RunOptions): Promise<CommandResult> {
  if (typeof line !== 'string' || line.length > 2000) throw new CommandRefused('command must be a string of at most 2000 characters');
  const [command, ...args] = splitCommandLine(line);
  if (command === undefined) throw new CommandRefused('command is empty');
  const allowed = Object.hasOwn(allowedCommands, command) ? allowedCommands[command] : undefined;
  if (allowed === undefined) {
    throw new CommandRefused(`${command} is not on the allow-list (${Object.keys(allowedCommands).join(', ')})`);
  }
  const reason = await allowed.check(args, options.sandbox);
  if (reason !== undefined) throw new CommandRefused(`${command}: ${reason}; allowed: ${allowed.description}`);
  const program = locateProgram(command);
  if (program === undefined) throw new CommandRefused(`${command} is not installed on this server`);

  const timeoutMs = options.timeoutMs ?? 5000;
  const maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      {
        cwd: options.sandbox.root,
        env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
        shell: false,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: maxOutputBytes,
        encoding: 'utf8',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number }) | null;
        const truncated = failure?.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
        resolve({
          command,
          args,
          exit_code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
          signal: failure?.signal ?? null,
          stdout: withoutSandboxPath(stdout, options.sandbox.root),
          stderr: withoutSandboxPath(stderr, options.sandbox.root),
          timed_out: failure?.killed === true && !truncated,
          truncated,
        });
      },
    );
  });
}

/** Output names sandbox paths relative to it (`./notes`), never where the sandbox lives on the server (SR-14). */
function withoutSandboxPath(output: string, root: string): string {
  return output.split(`${root}/`).join('./').split(root).join('.');
}
