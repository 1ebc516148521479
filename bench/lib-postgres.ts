import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import pg from 'pg';
import { CLOCK_TICKS_PER_SECOND } from './lib-process.ts';

/** The PostgreSQL the project's tests use (trust authentication, database `test`); MANDATE_BENCH_POSTGRES_URL overrides it. */
export const BENCH_POSTGRES_URL = process.env['MANDATE_BENCH_POSTGRES_URL'] ?? 'postgres://127.0.0.1:5432/test';

/** Connections per Mandate instance (`?pool=`): what the PostgreSQL figure ran with. */
export const POOL_SIZE = 16;

/** A fresh schema for one run, so that no earlier run's rows (or another session's) are read; dropped by `drop`. */
export interface FreshSchema {
  url: string;
  schema: string;
  drop(): Promise<void>;
}

export function freshSchema(): FreshSchema {
  const schema = `bench_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(BENCH_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  url.searchParams.set('pool', String(POOL_SIZE));
  return {
    url: url.href,
    schema,
    async drop() {
      // Without a user in the URL, libpq's default: the operating-system user (pg reads $USER, which may be unset).
      const at = new URL(BENCH_POSTGRES_URL);
      const client = new pg.Client({
        host: at.hostname,
        port: Number(at.port || 5432),
        database: at.pathname.slice(1),
        user: decodeURIComponent(at.username) || process.env['PGUSER'] || userInfo().username,
        ...(at.password ? { password: decodeURIComponent(at.password) } : {}),
      });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Local ports of the TCP sockets process `pid` holds (its connections to PostgreSQL among them). */
function socketPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && inodes.has(fields[9]!)) ports.add(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving the given client processes (found by the client port
 * each backend's process title names: `postgres: user db 127.0.0.1(port) state`). On PostgreSQL the database does
 * part of each request's work, so the harness adds it to the server's CPU per request. Other sessions' backends
 * and the shared WAL writer and checkpointer are left out. A backend that exits keeps the last time read from it.
 */
export function postgresBackendCpu(clientPids: () => readonly number[]): () => number {
  const seen = new Map<number, number>();
  return () => {
    const ports = new Set<number>();
    for (const pid of clientPids()) for (const port of socketPorts(pid)) ports.add(port);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      let title: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      const port = /\((\d+)\)/.exec(title)?.[1];
      if (!port || !ports.has(Number(port))) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seen.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
    }
    let total = 0;
    for (const seconds of seen.values()) total += seconds;
    return total;
  };
}
