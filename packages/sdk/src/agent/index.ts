export { AgentAuthClient } from './client.ts';
export { AppAuthClient } from './app-client.ts';
export type { ApprovalRequest, PendingApproval } from './backchannel-approval.ts';
export type { DeviceAuthorization, DeviceAuthorizationRequest } from './device-authorization.ts';
export type {
  AgentAuthClientOptions,
  AgentToken,
  AgentTokenRequest,
  AppAuthClientOptions,
  AppClientOptions,
  AuthorizationUrl,
  LoopbackAuthorization,
  LoopbackAuthorizationRequest,
  RevokeOptions,
} from './client-options.ts';
export type { AuthorizationRequest, PendingAuthorization } from './authorization-request.ts';
export { verifyAuthorizationResponse } from './authorization-response.ts';
export type { AuthorizationResponse } from './authorization-response.ts';
export { clientSecretBasic, clientSecretPost, privateKeyJwt, publicClient } from './client-authentication.ts';
export type { AppAuthMethod, AssertionAudience, ClientAuthentication, PrivateKeyJwtOptions, TokenEndpointAuthMethod } from './client-authentication.ts';
export { FileTokenStore, type FileTokenStoreOptions } from './file-token-store.ts';
export { listenForCallback } from './loopback.ts';
export type { LoopbackListener, LoopbackListenerOptions } from './loopback.ts';
export { createPkcePair } from './pkce.ts';
export type { PkcePair } from './pkce.ts';
export type { RefreshRequest } from './refresh-token.ts';
export type { TokenTypeHint } from './revocation.ts';
export type { ExchangedToken, TokenExchangeRequest } from './token-exchange.ts';
export { requestToken } from './token-request.ts';
export type { TokenResponse } from './token-request.ts';
export { MemoryTokenStore, tokenSetKey } from './token-store.ts';
export type { DelegatedTokenSet, TokenSetKeyParts, TokenStore } from './token-store.ts';
