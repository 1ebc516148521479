import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { type RunningProcess, waitForHttp } from '../helpers/demo-processes.ts';
import { AgentAuthClient } from '@mandate/sdk/agent';
import { mandateEnv, REPO_ROOT, runCliJson, type ServerProcess, startServerProcess } from '../helpers/processes.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** What a 401 without credentials offers next to Bearer (RFC 9449 §7.1): the resource accepts DPoP. */
const DPOP_OFFER = `DPoP algs="${JWS_ALGORITHMS.join(' ')}"`;

/** The "Ten-line MCP server" of docs/sdk.md: the documented block is the file, and the file works. */

const SNIPPET_FILE = `${REPO_ROOT}examples/mcp-server/src/ten-line-server.ts`;

test('docs/sdk.md "Ten-line MCP server" shows examples/mcp-server/src/ten-line-server.ts exactly', () => {
  const docs = readFileSync(`${REPO_ROOT}docs/sdk.md`, 'utf8');
  const section = docs.slice(docs.indexOf('## Ten-line MCP server'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.equal(block, readFileSync(SNIPPET_FILE, 'utf8'));
});

forEachStore('the ten-line MCP server as its own process, against mandate serve', (fixture) => {
  let env: NodeJS.ProcessEnv;
  let as: ServerProcess;
  let snippet: RunningProcess;
  let resource: string;
  let calcAgent: { client_id: string; client_secret: string };
  let otherAgent: { client_id: string; client_secret: string };

  before(async () => {
    env = mandateEnv(fixture.url);
    const port = await freePort();
    resource = `http://localhost:${port}/mcp`;
    await runCliJson(['resource', 'create', '--uri', resource, '--scope', 'calc other'], env);
    calcAgent = await runCliJson(['agent', 'create', '--name', 'calc agent', '--scope', 'calc', '--audience', resource], env);
    otherAgent = await runCliJson(['agent', 'create', '--name', 'no calc', '--scope', 'other', '--audience', resource], env);
    as = await startServerProcess(await freePort(), env);
    const child = spawn(process.execPath, [SNIPPET_FILE], { env: { ...env, PORT: String(port), MANDATE_ISSUER: as.issuer }, stdio: 'inherit' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    snippet = {
      child,
      output: () => '',
      exited: () => exited,
      stop: async () => {
        child.kill('SIGTERM');
        return exited;
      },
    };
    // It prints nothing when ready: its port answering is the signal (or its exit, a failure).
    const exitedEarly = exited.then((code) => Promise.reject(new Error(`the ten-line server exited ${code} before it answered`)));
    exitedEarly.catch(() => {}); // it also exits, normally, when the suite stops it
    await Promise.race([waitForHttp(`http://localhost:${port}/.well-known/oauth-protected-resource/mcp`), exitedEarly]);
  });
  after(async () => {
    await snippet?.stop();
    await as?.stop();
  });

  test('MCP-RS-02 no token → 401 with resource_metadata; the metadata names the AS', async () => {
    const response = await fetch(resource, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    const metadataUrl = resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp');
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}", ${DPOP_OFFER}`);
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    assert.deepEqual([metadata['resource'], metadata['authorization_servers'], metadata['scopes_supported']], [resource, [as.issuer], ['calc']]);
  });

  test('an agent token for this resource (AgentAuthClient) calls add, and the tool sees the agent', async () => {
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: calcAgent.client_id, clientSecret: calcAgent.client_secret });
    const { accessToken } = await agent.getAgentToken({ scope: 'calc', resource });
    const transport = new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
      assert.deepEqual(result.content, [{ type: 'text', text: `42, computed for ${calcAgent.client_id}` }]);
    } finally {
      await client.close();
    }
  });

  test('MCP-RS-02 the MCP SDK client with ClientCredentialsProvider follows the 401 to the metadata and the AS, gets a token, calls add', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(resource), {
      authProvider: new ClientCredentialsProvider({ clientId: calcAgent.client_id, clientSecret: calcAgent.client_secret, expectedIssuer: as.issuer }),
    });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    try {
      await client.connect(transport);
      const result = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
      assert.deepEqual(result.content, [{ type: 'text', text: `42, computed for ${calcAgent.client_id}` }]);
    } finally {
      await client.close();
    }
  });

  test('MCP-RS-03 a token without calc → 403 insufficient_scope', async () => {
    const token = await fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${otherAgent.client_id}:${otherAgent.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource }),
    }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
    const transport = new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      await assert.rejects(client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
    } finally {
      await client.close();
    }
  });
});
