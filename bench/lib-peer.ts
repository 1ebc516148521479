import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type ServerProcess, startServerProcess } from './lib-process.ts';

const PEER = fileURLToPath(new URL('./lib-oidc-provider-peer.ts', import.meta.url));

export function oidcProviderVersion(): string {
  const path = createRequire(import.meta.url).resolve('oidc-provider/package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

export interface PeerUnderTest {
  server: ServerProcess;
  agentId: string;
  agentSecret: string;
  resourceClientId: string;
  resourceSecret: string;
  appId: string;
  appSecret: string;
  settings: Record<string, unknown>;
  close(): Promise<void>;
}

/** Starts oidc-provider (lib-oidc-provider-peer.ts) in its own process, with `jwt` or `opaque` access tokens. */
export async function startPeer(options: { core: number | null; accessTokenFormat: 'jwt' | 'opaque' }): Promise<PeerUnderTest> {
  const credentials = {
    agentId: 'bench-agent',
    agentSecret: randomBytes(32).toString('base64url'),
    resourceClientId: 'bench-resource',
    resourceSecret: randomBytes(32).toString('base64url'),
    appId: 'bench-app',
    appSecret: randomBytes(32).toString('base64url'),
  };
  const server = await startServerProcess({
    label: 'oidc-provider',
    args: [PEER],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PEER_AGENT_ID: credentials.agentId,
      PEER_AGENT_SECRET: credentials.agentSecret,
      PEER_RESOURCE_CLIENT_ID: credentials.resourceClientId,
      PEER_RESOURCE_SECRET: credentials.resourceSecret,
      PEER_APP_ID: credentials.appId,
      PEER_APP_SECRET: credentials.appSecret,
      PEER_ACCESS_TOKEN_FORMAT: options.accessTokenFormat,
    },
    core: options.core,
    readyUrl: (line) => /^oidc-provider \S+ listening on (\S+)/.exec(line)?.[1],
  });
  return {
    server,
    ...credentials,
    settings: {
      version: oidcProviderVersion(),
      storage: 'its in-memory adapter, the LRU raised from 1,000 to 1,000,000 entries (so no token, code, session or grant a run uses is evicted), no audit trail',
      accessTokens: `${options.accessTokenFormat === 'jwt' ? 'RFC 9068 JWT, ES256' : 'opaque'} (resourceIndicators, accessTokenFormat: '${options.accessTokenFormat}')`,
      clientAuth: 'client_secret_basic',
      nodeEnv: 'production',
    },
    close: () => server.stop(),
  };
}
