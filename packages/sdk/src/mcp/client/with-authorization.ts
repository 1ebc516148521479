import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { AuthorizationLimit } from '../../errors.ts';
import type { McpOAuthClientProvider } from './provider.ts';

/** What the helpers need of a transport: `StreamableHTTPClientTransport` (or the SSE one) has it. */
export interface AuthorizingTransport {
  finishAuth(authorizationCode: string): Promise<void>;
}

/**
 * Runs an MCP operation (a `callTool`, `listTools`, …) and completes the authorizations it needs on the way: when
 * the transport answers a 401 or a 403 `insufficient_scope` by showing an authorization URL (it then throws the MCP
 * SDK's `UnauthorizedError`), this waits for the browser's verified return ({@link McpOAuthClientProvider.waitForAuthorizationCode}),
 * redeems the code with `transport.finishAuth` and runs the operation again. At most `maxAuthorizations` (default
 * 3) authorizations per operation (MCP "Step-Up Authorization Flow": retry limits), then `ERR_AUTHORIZATION_LIMIT`.
 *
 * @example
 * const result = await withAuthorization(provider, transport, () => client.callTool({ name: 'write_file', arguments }));
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#step-up-authorization-flow
 */
export async function withAuthorization<T>(
  provider: Pick<McpOAuthClientProvider, 'waitForAuthorizationCode' | 'resetAuthorizationAttempts'>,
  transport: AuthorizingTransport,
  operation: () => Promise<T>,
  maxAuthorizations = 3,
): Promise<T> {
  for (let authorizations = 0; ; authorizations++) {
    try {
      const result = await operation();
      provider.resetAuthorizationAttempts();
      return result;
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
      if (authorizations >= maxAuthorizations) throw new AuthorizationLimit(authorizations);
      await transport.finishAuth(await provider.waitForAuthorizationCode());
    }
  }
}

/**
 * Connects an MCP `Client`, authorizing first when the server asks: a transport whose `initialize` was refused
 * cannot be started again, so after each authorization the next attempt uses a new transport from
 * `createTransport`. Resolves with the connected transport.
 *
 * @example
 * const transport = await connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(provider.serverUrl), { authProvider: provider }));
 */
export async function connectWithAuthorization<T extends Transport & AuthorizingTransport>(
  provider: Pick<McpOAuthClientProvider, 'waitForAuthorizationCode' | 'resetAuthorizationAttempts'>,
  client: { connect(transport: Transport): Promise<void> },
  createTransport: () => T,
  maxAuthorizations = 3,
): Promise<T> {
  for (let authorizations = 0; ; authorizations++) {
    const transport = createTransport();
    try {
      await client.connect(transport);
      provider.resetAuthorizationAttempts();
      return transport;
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
      if (authorizations >= maxAuthorizations) throw new AuthorizationLimit(authorizations);
      await transport.finishAuth(await provider.waitForAuthorizationCode());
    }
  }
}
