import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import pg from 'pg';
import { TEST_POSTGRES_URL } from './stores.ts';

/**
 * A TCP proxy between a server under test and PostgreSQL that fails connections on the test's word: the database
 * dropped (every connection cut, new ones refused until `restore()`), or one connection reset at the moment it carries
 * a given statement, as a failover does mid-transaction, or that connection's backend ended by the database itself
 * (`pg_terminate_backend`, as an operator or a failover manager does: SQLSTATE 57P01). It reads the client's bytes only to find the statement's
 * text (node-postgres sends SQL as plain text on loopback; a statement the driver prepared is sent by its name after
 * the first time, so the proxy remembers each prepared name's text); everything else passes through unchanged.
 */
export interface ArmedReset {
  /** Resolves once the reset happened. */
  fired: Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket;
  /** The end of the client's previous chunk, so that a statement split across two chunks is still found. */
  tail: string;
  /** The `after` statement of the armed reset has gone through this connection. */
  sawAfter: boolean;
  /** The statement ran: the connection is reset when the database's answer arrives, before it is forwarded. */
  dropReply: boolean;
}

type When = 'before' | 'after-reply' | 'terminate';

interface Trigger {
  statement: string;
  when: When;
  after: string | undefined;
  fire: () => void;
}

export class PostgresFaultProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #links = new Set<Link>();
  #refusing = false;
  #trigger: Trigger | null = null;
  /** Prepared statements' text by name (the driver's `mandate_<n>`, the same name on every connection). */
  readonly #prepared = new Map<string, string>();

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
    server.on('connection', (client) => this.#accept(client));
  }

  static async start(): Promise<PostgresFaultProxy> {
    const target = new URL(TEST_POSTGRES_URL);
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new PostgresFaultProxy(server, { host: target.hostname, port: Number(target.port || 5432) });
  }

  /** `databaseUrl` (a test schema's URL) as reached through this proxy. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String((this.#server.address() as AddressInfo).port);
    return url.toString();
  }

  /** The database is gone: every open connection is reset and every new one refused, until `restore()`. */
  cutAll(): void {
    this.#refusing = true;
    for (const link of this.#links) this.#reset(link);
  }

  restore(): void {
    this.#refusing = false;
  }

  /**
   * Arms one reset: the first connection to send `statement` (after sending `after`, when given) is reset, either
   * `before` the statement reaches the database (it never runs, and PostgreSQL rolls its transaction back), or
   * `after-reply`: the statement runs and the connection is reset when its answer comes back, so the server never
   * learns the outcome (a COMMIT that committed, say); or `terminate`: the statement is held back while PostgreSQL
   * itself ends the connection's backend (`pg_terminate_backend`), then forwarded to the dead connection.
   */
  resetOn(statement: string, options: { when: When; after?: string }): ArmedReset {
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => (fire = resolve));
    for (const link of this.#links) link.sawAfter = false;
    this.#trigger = { statement, when: options.when, after: options.after, fire };
    return { fired };
  }

  /** Connections open now (for a test that waits for the server's pool to reconnect). */
  get openConnections(): number {
    return this.#links.size;
  }

  async close(): Promise<void> {
    for (const link of this.#links) this.#reset(link);
    this.#server.close();
    await once(this.#server, 'close');
  }

  #accept(client: Socket): void {
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(this.#target);
    const link: Link = { client, upstream, tail: '', sawAfter: false, dropReply: false };
    this.#links.add(link);
    const end = () => this.#reset(link);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      // A Parse of a named statement: its name, then its text.
      for (const [, name, sql] of chunk.toString('latin1').matchAll(/(mandate_\d+)\0((?:SELECT|INSERT|UPDATE|DELETE|WITH)\b[^\0]*)\0/g)) this.#prepared.set(name!, sql!);
      const action = this.#actionFor(link, chunk);
      if (action === 'reset') return this.#reset(link);
      if (action === 'terminate') {
        client.pause();
        void terminateBackend(upstream.localPort!).finally(() => {
          if (!upstream.destroyed) upstream.write(chunk);
          client.resume();
        });
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (link.dropReply) return this.#reset(link);
      client.write(chunk);
    });
  }

  /** Looks for the armed statement in what the client sends: what to do with this chunk. */
  #actionFor(link: Link, chunk: Buffer): 'forward' | 'reset' | 'terminate' {
    const trigger = this.#trigger;
    if (!trigger) return 'forward';
    const raw = link.tail + chunk.toString('latin1');
    link.tail = raw.slice(-Math.max(trigger.statement.length, trigger.after?.length ?? 0));
    // A Bind names its prepared statement: read it as the statement's text, in place.
    const text = raw.replace(/(mandate_\d+)\0/g, (named, name: string) => `${named}${this.#prepared.get(name) ?? ''}\0`);
    if (trigger.after !== undefined && !link.sawAfter) {
      const at = text.indexOf(trigger.after);
      if (at < 0) return 'forward';
      link.sawAfter = true;
      if (!text.slice(at + trigger.after.length).includes(trigger.statement)) return 'forward';
    } else if (!text.includes(trigger.statement)) {
      return 'forward';
    }
    this.#trigger = null;
    trigger.fire();
    if (trigger.when === 'before') return 'reset';
    if (trigger.when === 'terminate') return 'terminate';
    link.dropReply = true;
    return 'forward';
  }

  #reset(link: Link): void {
    if (!this.#links.delete(link)) return;
    if (!link.client.destroyed) link.client.resetAndDestroy();
    if (!link.upstream.destroyed) link.upstream.resetAndDestroy();
  }
}

/** Ends, from PostgreSQL's side, the backend serving the proxy's connection that leaves from `localPort`. */
async function terminateBackend(localPort: number): Promise<void> {
  const admin = new URL(TEST_POSTGRES_URL);
  if (!admin.username) admin.username = process.env['PGUSER'] ?? userInfo().username;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ ended: boolean }>('SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE client_port = $1', [localPort]);
    if (rows.length !== 1 || !rows[0]!.ended) throw new Error(`no backend to terminate for port ${localPort}`);
  } finally {
    await client.end();
  }
}
