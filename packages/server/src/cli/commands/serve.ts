import { parseArgs } from 'node:util';
import { ConfigError, type ConfigOverrides, configFromEnvironment, defaults } from '../../config.ts';
import { startServer } from '../../server.ts';
import { UsageError } from '../cli-context.ts';

export const serveHelp = `mandate serve [--port 8787] [--host 127.0.0.1] [--issuer <url>] [--db <url>]

  Runs the authorization server. Applies pending migrations and creates the first signing key on first start.
  Environment: PORT, MANDATE_HOST, MANDATE_ISSUER, MANDATE_DATABASE_URL, MANDATE_KEK, … (see README).`;

export async function serveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, issuer: { type: 'string' }, db: { type: 'string' } },
  });
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new UsageError('--port must be a number');
  const env = configFromEnvironment();
  const flags: ConfigOverrides = { port: values.port === undefined ? undefined : Number(values.port), host: values.host, issuer: values.issuer, databaseUrl: values.db };
  const port = flags.port ?? env.port;
  const host = flags.host ?? env.host;
  // A fixed port without an issuer names itself; with port 0 startServer names the port it bound.
  if (values.issuer === undefined && env.issuer === undefined && port !== undefined && port !== 0) flags.issuer = `http://localhost:${port}`;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer([env, flags]);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError(`cannot listen on ${host ?? defaults.host}:${port ?? defaults.port} (${code === 'EADDRINUSE' ? 'in use' : 'not permitted'}); choose another with --port or PORT`);
    }
    throw err;
  }
  server.app.log.info({ issuer: server.issuer, store: server.store.dialect, kid: server.context.keys.active.kid }, 'mandate listening');
  process.stdout.write(`Mandate authorization server on ${server.issuer} (${server.store.dialect} store)\n`);

  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
