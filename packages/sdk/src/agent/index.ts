export { AgentAuthClient } from './client.ts';
export type { AgentAuthClientOptions, AgentToken, AgentTokenRequest } from './client.ts';
export { clientSecretBasic, clientSecretPost, privateKeyJwt } from './client-authentication.ts';
export type { AssertionAudience, ClientAuthentication, PrivateKeyJwtOptions, TokenEndpointAuthMethod } from './client-authentication.ts';
export { requestToken } from './token-request.ts';
export type { TokenResponse } from './token-request.ts';
