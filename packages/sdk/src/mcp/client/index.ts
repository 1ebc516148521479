/**
 * `@mandate/sdk/mcp/client`: the client side of MCP authorization for the MCP TypeScript SDK 1.x: an
 * `OAuthClientProvider` for `StreamableHTTPClientTransport`, and helpers that complete authorizations on the way.
 */
export { mcpTokenSetKey, McpOAuthClientProvider } from './provider.ts';
export type { LoopbackRedirect, McpOAuthClientOptions, PreRegisteredClient } from './options.ts';
export { clientMetadataDocument, isMetadataDocumentUrl, MemoryClientRegistrationStore, registerClient } from './registration.ts';
export type { ClientMetadata, ClientRegistration, ClientRegistrationStore } from './registration.ts';
export { FileClientRegistrationStore } from './file-registration-store.ts';
export type { FileClientRegistrationStoreOptions } from './file-registration-store.ts';
export { headlessBrowser } from './headless.ts';
export type { HeadlessBrowserOptions, HeadlessUserAgent } from './headless.ts';
export { connectWithAuthorization, withAuthorization } from './with-authorization.ts';
export type { AuthorizingTransport } from './with-authorization.ts';
export { actionApprovalRequired, callToolWithActionToken } from './action-approval.ts';
export type { ActionCallOptions } from './action-approval.ts';
