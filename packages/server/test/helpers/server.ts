import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { ConfigOverrides } from '../../src/config.ts';
import { createAdminToken } from '../../src/management/admin-tokens.ts';
import { type RunningServer, type StartOptions, startServer } from '../../src/server.ts';
import type { StoreFixture } from './stores.ts';

/**
 * A frozen clock the server reads for every time check: it starts at the real time and moves only when a test
 * advances it, so no outcome depends on how slowly a loaded machine runs the test. Seconds and milliseconds are two
 * views of one instant.
 */
export class TestClock {
  #nowMs: number;
  constructor(startMs = Date.now()) {
    this.#nowMs = startMs;
  }
  /** Epoch milliseconds. */
  readonly nowMs = (): number => this.#nowMs;
  /** Epoch seconds. */
  readonly now = (): number => Math.floor(this.#nowMs / 1000);
  advance(seconds: number): void {
    this.#nowMs += seconds * 1000;
  }
}

export interface TestServer extends RunningServer {
  clock: TestClock;
  /** An admin API token for this server's store. */
  adminToken: string;
  /** POSTs a form to a path under the issuer. */
  postForm(path: string, params: Record<string, string | string[]>, headers?: Record<string, string>): Promise<Response>;
  /** Calls the admin API with the admin token. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
}

/**
 * Ports handed out by freePort in this process, so that two servers of one test file never get the same one.
 * Outside the kernel's ephemeral range (32768–60999 by default): a port from that range, free a moment ago, is taken
 * by the next outgoing connection of any process (a database client, a fetch) often enough on a busy machine that a
 * child server started seconds later finds it in use. Below it, only another test choosing at random can collide.
 */
const handedOut = new Set<number>();
const FIRST_PORT = 20_000;
const PORT_COUNT = 12_000;

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** A TCP port that was free a moment ago (for servers whose issuer must name their port before they start). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = FIRST_PORT + randomBytes(2).readUInt16BE() % PORT_COUNT;
    if (handedOut.has(port)) continue;
    if (!(await canListen(port, '127.0.0.1'))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${FIRST_PORT} and ${FIRST_PORT + PORT_COUNT - 1}`);
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function formBody(params: Record<string, string | string[]>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) for (const v of [value].flat()) body.append(name, v);
  return body.toString();
}

/** One random KEK per database, so that every test server on a fixture's database can read its signing keys. */
const keks = new Map<string, string>();

/** Starts a real server on a free port over the fixture's database, with the database's KEK and a frozen clock of its own. */
export async function startTestServer(fixture: Pick<StoreFixture, 'url'>, overrides: ConfigOverrides = {}, options: Omit<StartOptions, 'now'> = {}): Promise<TestServer> {
  const clock = new TestClock();
  let kek = keks.get(fixture.url);
  if (kek === undefined) keks.set(fixture.url, (kek = randomBytes(32).toString('base64url')));
  const server = await startServer(
    {
      port: 0,
      databaseUrl: fixture.url,
      logLevel: 'silent',
      ...overrides,
      keys: { kek, ...overrides.keys },
      // Every test client is 127.0.0.1 and the frozen clock refills no per-minute budget: the per-address flood
      // ceilings would meet a suite's logins, not a flood. Tests of those ceilings set them.
      users: { loginAttemptsPerIpPerMinute: 0, anonymousSessionsPerIpPerMinute: 0, ...overrides.users },
    },
    { ...options, now: clock.now },
  );
  const audit = server.context.audit;
  const { token } = await createAdminToken(
    { name: 'tests' },
    { store: server.store, audit, config: server.config, now: clock.now(), actor: 'test' },
  );
  await audit.flush();
  return Object.assign(server, { clock, adminToken: token, ...httpCalls(server.issuer, token) });
}

/** A server's `postForm` and `admin` calls, for a server in this process or in another (helpers/server-process.ts). */
export function httpCalls(issuer: string, adminToken: string): Pick<TestServer, 'postForm' | 'admin'> {
  return {
    postForm(path: string, params: Record<string, string | string[]>, headers: Record<string, string> = {}) {
      return fetch(`${issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: formBody(params),
      });
    },
    admin(method: string, path: string, body?: unknown) {
      return fetch(`${issuer}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
  };
}

export const MCP_RESOURCE = 'https://mcp.example.com/mcp';

/** Registers the example MCP resource and an agent allowed some of its scopes, through the admin API. */
export async function registerAgentAndResource(
  server: TestServer,
  agent: Record<string, unknown> = {},
  resourceUri = MCP_RESOURCE,
): Promise<{ clientId: string; clientSecret: string; apiKey: string }> {
  let apiKey = '';
  const existing = await server.admin('GET', '/resources');
  const known = ((await existing.json()) as { resources: { resource: string }[] }).resources.some((r) => r.resource === resourceUri);
  if (!known) {
    const created = await server.admin('POST', '/resources', {
      resource: resourceUri,
      scopes: ['calc', 'files:read', 'files:write', { name: 'exec', risk: 'high' }],
    });
    if (created.status !== 201) throw new Error(`resource creation failed: ${created.status} ${await created.text()}`);
    apiKey = ((await created.json()) as { api_key: string }).api_key;
  }
  const response = await server.admin('POST', '/agents', { name: 'test agent', scopes: ['calc', 'files:read'], audiences: [resourceUri], ...agent });
  if (response.status !== 201) throw new Error(`agent creation failed: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as { client_id: string; client_secret: string };
  return { clientId: created.client_id, clientSecret: created.client_secret, apiKey };
}

/** Decodes a JWT's header and payload without verifying it (tests assert on what is on the wire). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString()),
  };
}
