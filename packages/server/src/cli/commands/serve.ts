import { parseArgs } from 'node:util';
import { ConfigError, configFromEnv } from '../../config.ts';
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
  const env = configFromEnv(process.env);
  const port = values.port === undefined ? env.port : Number(values.port);
  const issuer = values.issuer ?? env.issuer ?? (port !== undefined && port !== 0 ? `http://localhost:${port}` : undefined);
  const host = values.host ?? env.host;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ ...env, port, host, issuer, databaseUrl: values.db ?? env.databaseUrl });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError(`cannot listen on ${host ?? '127.0.0.1'}:${port ?? 8787} (${code === 'EADDRINUSE' ? 'in use' : 'not permitted'}); choose another with --port or PORT`);
    }
    throw err;
  }
  server.app.log.info({ issuer: server.issuer, store: server.context.store.dialect, kid: server.context.keys.active.kid }, 'mandate listening');
  process.stdout.write(`Mandate authorization server on ${server.issuer} (${server.context.store.dialect} store)\n`);

  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
