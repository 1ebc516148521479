import { ConfigError, demoConfigFromEnv } from './config.ts';
import { prepareSandboxDir } from './default-sandbox.ts';
import { Sandbox } from './sandbox.ts';
import { startDemoMcpServer } from './server.ts';

/** `node examples/mcp-server/src/main.ts`: the demo MCP server, configured by environment (see config.ts). */

let config;
try {
  config = demoConfigFromEnv(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(2);
}

const sandbox = await Sandbox.open(await prepareSandboxDir(config.sandboxDir));
const server = await startDemoMcpServer(config, {
  sandbox,
  log: (line) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
}).catch((err: NodeJS.ErrnoException) => {
  if (err.code !== 'EADDRINUSE') throw err;
  process.stderr.write(`error: port ${config.port} is in use (set MCP_PORT)\n`);
  process.exit(1);
});

process.stdout.write(
  `Demo MCP server on ${server.resource} (tokens from ${config.issuer}, verify: ${config.verify.mode}, sandbox: ${sandbox.root})\n`,
);

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
