import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigError, type ConfigOverrides, configFromFileAndEnvironment, defaults } from '../../config.ts';
import { startServer } from '../../server.ts';
import { UsageError } from '../cli-context.ts';

export const serveHelp = `mandate serve [--port 8787] [--host 127.0.0.1] [--issuer <url>] [--db <url>] [--config <file.json>]

  Runs the authorization server. Applies pending migrations and creates the first signing key on first start.
  Configuration: the JSON file --config (or MANDATE_CONFIG_FILE) names, under the environment (PORT, MANDATE_HOST,
  MANDATE_ISSUER, MANDATE_DATABASE_URL, MANDATE_KEK, …; see README), under these flags.
  SIGTERM or SIGINT drains the requests under way and commits the audit trail before exiting; a second one exits at once.`;

export async function serveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, issuer: { type: 'string' }, db: { type: 'string' }, config: { type: 'string' } },
  });
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new UsageError('--port must be a number');
  const layers = configFromFileAndEnvironment(values.config);
  const outside = <K extends 'port' | 'host' | 'issuer'>(key: K): ConfigOverrides[K] => layers.findLast((layer) => layer[key] !== undefined)?.[key];
  const flags: ConfigOverrides = { port: values.port === undefined ? undefined : Number(values.port), host: values.host, issuer: values.issuer, databaseUrl: values.db };
  const port = flags.port ?? outside('port');
  const host = flags.host ?? outside('host');
  // A fixed port without an issuer names itself; with port 0 startServer names the port it bound.
  if (values.issuer === undefined && outside('issuer') === undefined && port !== undefined && port !== 0) flags.issuer = `http://localhost:${port}`;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer([...layers, flags]);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError(`cannot listen on ${host ?? defaults.host}:${port ?? defaults.port} (${code === 'EADDRINUSE' ? 'in use' : 'not permitted'}); choose another with --port or PORT`);
    }
    throw err;
  }
  const { log } = server.app;

  const stop = (signal: NodeJS.Signals) => {
    log.info({ signal, graceSeconds: server.config.shutdownGraceSeconds }, 'shutting down: draining requests');
    // A second signal means "now": the operator has seen the drain and does not want to wait for it.
    process.once(signal, () => process.exit(1));
    server.close().then(
      () => {
        log.info('stopped: requests drained, audit trail committed');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  releaseStartupGarbage();
  // Announced only now: whoever waits for this line may signal at once, and must meet the handlers above.
  log.info({ issuer: server.issuer, store: server.store.dialect, kid: server.context.keys.active.kid, metricsPort: server.metricsPort }, 'mandate listening');
  process.stdout.write(`Mandate authorization server on ${server.issuer} (${server.store.dialect} store)\n`);
  if (server.metricsPort !== undefined) process.stdout.write(`Metrics on http://${server.config.metrics.host}:${server.metricsPort}/metrics\n`);
}

/**
 * One memory-reducing collection once started (issue 13 item 3): loading the server's modules and migrating leave
 * ~15–20 MiB of garbage that an idle server keeps resident (V8 collects on allocation, and idle there is none),
 * 102–109 MiB where this makes 88–90 (bench/lib-idle-rss.ts). A few tens of milliseconds, once, before the ready
 * line. Node exposes no collection without `--expose-gc`; set now, it gives a fresh context the `gc` function.
 */
function releaseStartupGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as ((options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void) | undefined;
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
