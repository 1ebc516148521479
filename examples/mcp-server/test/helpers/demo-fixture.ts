import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../../../../packages/server/test/helpers/server.ts';
import { startTestIssuer, type TestIssuer } from '../../../../packages/sdk/test/helpers/test-issuer.ts';
import { sampleSandboxDir } from '../../src/default-sandbox.ts';
import { Sandbox } from '../../src/sandbox.ts';
import { type RunningDemoServer, startDemoMcpServer } from '../../src/server.ts';

/**
 * The demo MCP server in this process, in front of the SDK's fixture AS (real HTTP on both sides), with a fresh
 * copy of the sample sandbox. For tests of the server's own behaviour; the cross-process tests with the real
 * authorization server are in test/e2e/.
 */
export interface DemoFixture {
  as: TestIssuer;
  server: RunningDemoServer;
  sandboxDir: string;
  /** A token for this server from the fixture AS; claims override the defaults (sub usr_alice, scope files:read). */
  token(claims?: Record<string, unknown>): string;
  /** An MCP SDK client that sends `token` (or none). */
  connect(token?: string): Promise<Client>;
  close(): Promise<void>;
}

export async function startDemoFixture(options: { verify?: 'jwt' | 'introspection' } = {}): Promise<DemoFixture> {
  const as = await startTestIssuer();
  const sandboxDir = mkdtempSync(join(tmpdir(), 'mandate-sandbox-'));
  cpSync(sampleSandboxDir, sandboxDir, { recursive: true });
  const port = await freePort();
  const resource = `http://localhost:${port}/mcp`;
  const verify =
    options.verify === 'introspection' ? { mode: 'introspection' as const, apiKey: as.addResource(resource), cacheTtlSeconds: 0 } : { mode: 'jwt' as const };
  const server = await startDemoMcpServer(
    { issuer: as.issuer, host: '127.0.0.1', port, resource, verify, sandboxDir },
    { sandbox: await Sandbox.open(sandboxDir) },
  );
  const clients: Client[] = [];
  return {
    as,
    server,
    sandboxDir,
    token: (claims = {}) => as.accessToken({ aud: resource, ...claims }),
    async connect(token) {
      const transport = new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
      });
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      await as.close();
      rmSync(sandboxDir, { recursive: true, force: true });
    },
  };
}
