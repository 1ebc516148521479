import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A minimal Redis client (RESP2, https://redis.io/docs/latest/develop/reference/protocol-spec/): one connection,
 * commands pipelined in order, each reply matched to its command by position. Enough for the replay markers
 * (`EVAL`), with no dependency. `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. The connection is
 * made at the first command and again after it is lost; a command without a reply within `timeoutMs` fails, and so
 * do the commands queued behind it (the connection is closed, as the order of replies can no longer be trusted).
 */

export type RespReply = string | number | null | RespReply[];

/** Redis answered with an error reply (`-ERR …`). */
export class RespErrorReply extends Error {
  override readonly name = 'RespErrorReply';
}

/** Parses one reply from `buffer` at `offset`: the reply and where the next starts, or undefined when incomplete. */
export function parseReply(buffer: Buffer, offset: number): { reply: RespReply | RespErrorReply; next: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const kind = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  switch (kind) {
    case '+':
      return { reply: line, next: lineEnd + 2 };
    case '-':
      return { reply: new RespErrorReply(line), next: lineEnd + 2 };
    case ':':
      return { reply: Number(line), next: lineEnd + 2 };
    case '$': {
      const length = Number(line);
      if (length < 0) return { reply: null, next: lineEnd + 2 };
      const end = lineEnd + 2 + length;
      if (buffer.length < end + 2) return undefined;
      return { reply: buffer.toString('utf8', lineEnd + 2, end), next: end + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { reply: null, next: lineEnd + 2 };
      const items: RespReply[] = [];
      let next = lineEnd + 2;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, next);
        if (item === undefined) return undefined;
        if (item.reply instanceof RespErrorReply) return item;
        items.push(item.reply);
        next = item.next;
      }
      return { reply: items, next };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(kind)}`);
  }
}

/** A command as RESP: an array of bulk strings. */
export function encodeCommand(args: readonly (string | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const value = Buffer.from(String(arg));
    parts.push(Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

interface Pending {
  resolve: (reply: RespReply) => void;
  reject: (err: Error) => void;
  /** AUTH or SELECT of a new connection: refused, it fails the connection and every command behind it. */
  setup?: boolean;
}

export class RespClient {
  readonly #url: URL;
  readonly #timeoutMs: number;
  #socket: Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Settles when the connection's AUTH and SELECT were answered: no command is sent before (it would run unauthenticated). */
  #ready: Promise<void> = Promise.resolve();

  constructor(url: string, options: { timeoutMs?: number } = {}) {
    this.#url = new URL(url);
    if (this.#url.protocol !== 'redis:' && this.#url.protocol !== 'rediss:') throw new TypeError('a Redis URL is redis:// or rediss://');
    this.#timeoutMs = options.timeoutMs ?? 2_000;
  }

  /** Sends a command; resolves with its reply, rejects with {@link RespErrorReply} or a connection error. */
  async command(args: readonly (string | number)[]): Promise<RespReply> {
    if (this.#closed) throw new Error('the Redis client is closed');
    const socket = this.#socket ?? this.#open();
    await this.#ready;
    if (this.#socket !== socket) throw new Error('the connection to Redis was lost');
    return this.#send(socket, args, false);
  }

  close(): void {
    this.#closed = true;
    this.#fail(new Error('the Redis client is closed'));
  }

  #send(socket: Socket, args: readonly (string | number)[], setup: boolean): Promise<RespReply> {
    return new Promise<RespReply>((resolve, reject) => {
      this.#pending.push({ resolve, reject, setup });
      // The deadline runs for the oldest command waiting: newer ones do not push it back.
      if (this.#timer === undefined) this.#armTimer();
      socket.write(encodeCommand(args));
    });
  }

  #open(): Socket {
    const url = this.#url;
    const port = Number(url.port || 6379);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = url.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#buffer = Buffer.alloc(0);
    // A connection already given up (#fail) reports nothing more: its commands were failed then.
    const current = () => this.#socket === socket;
    socket.on('data', (chunk: Buffer) => current() && this.#receive(chunk));
    socket.on('error', (err) => current() && this.#fail(err));
    socket.on('close', () => current() && this.#fail(new Error('the connection to Redis closed')));
    // Sent first on the new connection, and answered before any command is sent on it (#ready); a refusal fails
    // the connection (#receive).
    const setup: Promise<RespReply>[] = [];
    if (url.password !== '') {
      const password = decodeURIComponent(url.password);
      setup.push(this.#send(socket, url.username !== '' ? ['AUTH', decodeURIComponent(url.username), password] : ['AUTH', password], true));
    }
    const db = url.pathname.replace(/^\//, '');
    if (db !== '') setup.push(this.#send(socket, ['SELECT', db], true));
    const ready = Promise.all(setup).then(() => undefined);
    ready.catch(() => {});
    this.#ready = ready;
    return socket;
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let offset = 0;
    for (;;) {
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(this.#buffer, offset);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      if (parsed === undefined) break;
      offset = parsed.next;
      const waiter = this.#pending.shift();
      if (waiter === undefined) continue;
      if (parsed.reply instanceof RespErrorReply && waiter.setup) {
        // A refused AUTH or SELECT: nothing behind it may run on this connection (another user's data, or none).
        waiter.reject(parsed.reply);
        this.#fail(new Error(`Redis refused the connection's setup (${parsed.reply.message})`));
        return;
      }
      if (parsed.reply instanceof RespErrorReply) waiter.reject(parsed.reply);
      else waiter.resolve(parsed.reply);
    }
    this.#buffer = this.#buffer.subarray(offset);
    this.#armTimer();
  }

  /** One deadline for the oldest command waiting; none while nothing waits. */
  #armTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    this.#timer = setTimeout(() => this.#fail(new Error(`Redis did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    this.#timer.unref();
  }

  /** Every waiting command fails; the connection is dropped (the next command opens a new one). */
  #fail(err: Error): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    for (const waiter of this.#pending.splice(0)) waiter.reject(err);
  }
}
