import type { ConfigOverrides } from '../../src/config.ts';
import { startTestServer } from './server.ts';
import type { ServerProcessReport } from './server-process.ts';

/**
 * The child of helpers/server-process.ts: one test server over the database URL in argv (config overrides as JSON
 * after it). It reports its issuer, admin token and clock when ready and after each `advance`; `close` ends it.
 */
const [url, overrides] = process.argv.slice(2) as [string, string];
const server = await startTestServer({ url }, JSON.parse(overrides) as ConfigOverrides);
const report = (): void => void process.send!({ issuer: server.issuer, adminToken: server.adminToken, now: server.clock.now() } satisfies ServerProcessReport);

let closing: Promise<void> | undefined;
const close = (): Promise<void> => (closing ??= server.close());
// A parent that goes away without saying `close` (a killed test run) leaves no server behind.
process.on('disconnect', () => void close());
process.on('message', (message: { advance: number } | { close: true }) => {
  if ('close' in message) {
    void close().then(() => process.disconnect());
    return;
  }
  server.clock.advance(message.advance);
  report();
});
report();
