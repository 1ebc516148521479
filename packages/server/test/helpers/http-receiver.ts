import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export type Received = { headers: IncomingHttpHeaders; body: string };

export interface HttpReceiver {
  /** `http://localhost:<port>/hook`. */
  url: string;
  received: Received[];
  /** Resolves once `count` requests have arrived, with the last of them (readiness by signal, never by time). */
  next(count: number): Promise<Received>;
  close(): Promise<void>;
}

/** A local HTTP receiver answering each request with the next of `statuses` (then 200), whose requests can be awaited. */
export async function httpReceiver(statuses: number[] = []): Promise<HttpReceiver> {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(statuses.shift() ?? 200).end();
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://localhost:${port}/hook`,
    received,
    async next(count) {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return received[count - 1]!;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
