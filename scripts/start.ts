import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { demoScopes } from '../examples/mcp-server/src/scopes.ts';
import { ensureDemoResource } from './demo-resource.ts';
import { type Colour, paint, pipeLabelled } from './labelled-output.ts';

/**
 * `npm start`: the authorization server (`mandate serve`) and the demo MCP server, each as its own process with
 * labelled output. On the way it registers the MCP server as a resource (first start only) and hands it a fresh
 * introspection API key. Ctrl-C stops both.
 *
 * Environment: PORT (8787), MCP_PORT (8788), MANDATE_DATABASE_URL (sqlite:./.mandate/mandate.db), MANDATE_ISSUER,
 * MCP_RESOURCE, MCP_VERIFY (jwt | introspection), MCP_SANDBOX_DIR; the rest is passed on to the children.
 */

const root = fileURLToPath(new URL('../', import.meta.url));
const port = Number(process.env['PORT'] || 8787);
const mcpPort = Number(process.env['MCP_PORT'] || 8788);
const resource = process.env['MCP_RESOURCE'] || `http://localhost:${mcpPort}/mcp`;
// Readiness is a printed line; this limit only catches a child that hangs, so it is generous (a loaded machine is slow).
const startupTimeoutMs = 120_000;

const children: ChildProcess[] = [];
let stopping = false;

function say(text: string): void {
  process.stdout.write(`${paint('[start]', 'yellow')} ${text}\n`);
}

/** Starts a child and resolves with the first match of `ready` in its output; rejects if it exits first. */
function startChild(label: string, colour: Colour, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<RegExpExecArray> {
  const child = spawn(process.execPath, args, { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${startupTimeoutMs / 1000}s`)), startupTimeoutMs);
    const onLine = (line: string) => {
      const match = ready.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    pipeLabelled(child.stdout!, label, colour, onLine);
    pipeLabelled(child.stderr!, label, colour);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label.trim()} exited (${signal ?? `code ${code}`}) before it was ready`));
      if (!stopping) {
        say(`${label.trim()} stopped (${signal ?? `code ${code}`}); stopping everything`);
        void stopAll(1);
      }
    });
  });
}

/** SIGTERM to every child still running (SIGKILL after 5 s), then exit. */
async function stopAll(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  say('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function nextSteps(issuer: string, verify: string): string {
  const risk = (s: (typeof demoScopes)[number]) => (s.risk === 'low' ? s.name : `${s.name} (${s.risk} risk)`);
  const serverEnv = [
    ...(issuer === 'http://localhost:8787' ? [] : [`MANDATE_ISSUER=${issuer}`]),
    ...(resource === 'http://localhost:8788/mcp' ? [] : [`MCP_URL=${resource}`]),
  ];
  const agentEnv = [...serverEnv, 'MANDATE_CLIENT_ID=agt_…', 'MANDATE_CLIENT_SECRET=…'].join(' ');
  const db = process.env['MANDATE_DATABASE_URL'] ? `MANDATE_DATABASE_URL=${process.env['MANDATE_DATABASE_URL']} ` : '';
  return `
  authorization server  ${issuer}   (metadata: ${issuer}/.well-known/oauth-authorization-server)
  demo MCP server       ${resource}   (verify: ${verify}; scopes: ${demoScopes.map(risk).join(', ')})

  Next steps, in another terminal in this directory:
    1. Create an agent that may use the demo MCP server:
         ${db}npx mandate agent create --name demo-agent --scope "calc files:read" --audience ${resource} --json
    2. Run the demo agent with the client_id and client_secret it printed:
         ${agentEnv} npm run agent
       It calls whoami, add, list_files and read_file, and is refused write_file (403 insufficient_scope).
       With a model: add OPENAI_BASE_URL, OPENAI_API_KEY, MANDATE_AGENT_MODEL and run \`npm run agent -- --mode openai\`.
    3. Or let an agent act for you (on-behalf-of: you sign in and approve it in the browser):
         ${db}npx mandate user create --email you@example.com      (it reads your password)
         ${db}${serverEnv.map((v) => `${v} `).join('')}npm run demo:obo

  Ctrl-C stops both servers.
`;
}

/** Fails early, with the variable to change, when a port is taken (rather than with the child's stack trace). */
async function checkPortFree(port: number, host: string, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: set ${variable} to another port`) : err),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

try {
  await checkPortFree(port, process.env['MANDATE_HOST'] || '127.0.0.1', 'PORT');
  await checkPortFree(mcpPort, process.env['MCP_HOST'] || '127.0.0.1', 'MCP_PORT');
  const [, issuer] = await startChild(
    '[mandate]',
    'cyan',
    [`${root}packages/server/bin/mandate.js`, 'serve', '--port', String(port)],
    process.env,
    /Mandate authorization server on (\S+)/,
  );
  const { created, apiKey } = await ensureDemoResource(resource);
  say(created ? `registered ${resource} with scopes ${demoScopes.map((s) => s.name).join(' ')}` : `${resource} is registered; issued it a fresh API key`);
  const verify = process.env['MCP_VERIFY'] || 'jwt';
  await startChild(
    '[mcp]    ',
    'magenta',
    [`${root}examples/mcp-server/src/main.ts`],
    { ...process.env, MANDATE_ISSUER: issuer, MCP_PORT: String(mcpPort), MCP_RESOURCE: resource, MANDATE_RESOURCE_API_KEY: apiKey },
    /Demo MCP server on (\S+)/,
  );
  say(`ready${nextSteps(issuer!, verify)}`);
} catch (err) {
  if (!stopping) {
    say(`error: ${(err as Error).message}`);
    await stopAll(1);
  }
}
