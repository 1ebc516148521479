import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import { deriveAuditKey } from '../audit/audit-chain.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { type ConfigOverrides, configFromFileAndEnvironment, type MandateConfig, resolveConfig } from '../config.ts';
import { KekError, loadKek } from '../keys/kek.ts';
import type { ManagementDeps } from '../management/management-deps.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';

/** Input the operator named that cannot be used (a file that cannot be read or parsed): `error: …`, exit status 1. */
export class CliInputError extends Error {
  override readonly name = 'CliInputError';
}

/** Reads a JSON file an option names; every way it can fail is a CliInputError naming the option and the file. */
export function readJsonFile(path: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(err));
    throw new CliInputError(`${option} ${path}: cannot read it (${why})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliInputError(`${option} ${path}: not JSON (${(err as Error).message})`);
  }
}

/** A usage mistake: printed with the command's help, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Output {
  json: boolean;
  /** Prints `value` as JSON with --json, else the human text. */
  print(value: unknown, human: string): void;
}

export function output(json: boolean): Output {
  return {
    json,
    print(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);
    },
  };
}

/** Config for a CLI command: defaults, then the configuration file (MANDATE_CONFIG_FILE), the environment, then flags. */
export function cliConfig(flags: ConfigOverrides): MandateConfig {
  return resolveConfig(...configFromFileAndEnvironment(), flags);
}

/**
 * Runs a management command against the store the config names: migrations applied (so a first command on a
 * new database works), every change audited with actor `cli`, the audit trail committed before exit. The audit
 * rows are MACed with the key derived from the KEK, so the CLI needs the server's KEK (MANDATE_KEK or its file);
 * it generates one, as `serve` does, only for a database whose audit trail no key has written yet.
 */
export async function withManagement<T>(config: MandateConfig, fn: (deps: ManagementDeps & { audit: AuditLog }) => Promise<T>): Promise<T> {
  const store: Store = await openStore(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous, sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs });
  let audit: AuditLog | undefined;
  try {
    await store.migrate();
    if (config.keys.kek === undefined && !existsSync(config.keys.kekFile) && (await store.auditChainState()).anchor?.mac) {
      throw new KekError(`${config.keys.kekFile} does not exist, and this database's audit trail is keyed by a KEK: give the CLI the server's (MANDATE_KEK or MANDATE_KEK_FILE)`);
    }
    audit = new AuditLog(store, deriveAuditKey(loadKek(config.keys)));
    return await fn({ store, audit, config, now: Math.floor(Date.now() / 1000), actor: 'cli' });
  } finally {
    await audit?.flush();
    await store.close();
  }
}

/** Splits `--scope "a b"` (and repeated --scope) into scope tokens. */
export function scopeList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
}

export function formatTime(epochSeconds: number | null): string {
  return epochSeconds === null ? '-' : new Date(epochSeconds * 1000).toISOString();
}

/** A fixed-width table for human output. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

const commonOptions = { db: { type: 'string' }, json: { type: 'boolean', default: false } } as const;

/**
 * The argument handling every management subcommand shares: `--db` and `--json` next to its own options, the
 * output and config they select, and `one()` for a subcommand that takes exactly one positional (an id).
 */
export function commandArgs<const T extends Record<string, ParseArgsOptionDescriptor>>(command: string, sub: string | undefined, args: string[], options: T, positionalName: string) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...commonOptions, ...options } });
  // The generic spread hides the common options from the checker; they are always there.
  const common = values as unknown as { db?: string; json: boolean };
  return {
    values,
    positionals,
    out: output(common.json),
    config: cliConfig({ databaseUrl: common.db }),
    one(): string {
      if (positionals.length !== 1) throw new UsageError(`mandate ${command} ${sub} needs exactly one <${positionalName}>`);
      return positionals[0]!;
    },
  };
}
