/**
 * @mandate/sdk: verify Mandate access tokens in resource and MCP servers, and get tokens as an agent.
 * This entry point re-exports the framework-free modules; framework adapters have their own subpaths
 * (`@mandate/sdk/middleware/{node,express,hono,fastify}`, `@mandate/sdk/mcp/server`) so that importing the core
 * never loads a framework.
 */
export * from './errors.ts';
export { createVerifier } from './verify/create-verifier.ts';
export type { Verifier, VerifierOptions, VerifyOptions } from './verify/create-verifier.ts';
export type { Actor, AuthInfo } from './verify/auth-info.ts';
export { verifyDelegation } from './verify/delegation.ts';
export type { DelegationPolicy } from './verify/delegation.ts';
export type { AccessTokenClaims, ActClaim, JwsAlgorithm } from '@mandate/protocol';
export type { IntrospectionCredentials, IntrospectionOptions } from './verify/introspection.ts';
export { createIntrospector, introspect } from './verify/introspect.ts';
export type { IntrospectionClient, IntrospectionResponse, IntrospectOptions } from './verify/introspect.ts';
export { authenticateCredentials, authenticateRequest, insufficientScopeChallenge, rejectionFor, rejectionResponse } from './challenge/authenticate-request.ts';
export type { AuthenticateOptions, AuthOutcome, Rejection } from './challenge/authenticate-request.ts';
export { extractBearerToken } from './challenge/extract-token.ts';
export type { CredentialSources, HeaderSource } from './challenge/extract-token.ts';
export { buildWwwAuthenticate } from './challenge/www-authenticate.ts';
export type { BearerChallenge } from './challenge/www-authenticate.ts';
export {
  buildProtectedResourceMetadata,
  createProtectedResourceMetadataHandler,
  protectedResourceMetadataUrl,
} from './metadata/protected-resource.ts';
export type { ProtectedResourceMetadata, ProtectedResourceMetadataOptions } from './metadata/protected-resource.ts';
export { fetchAuthorizationServerMetadata } from './discovery/authorization-server-metadata.ts';
export type { AuthorizationServerMetadata } from './discovery/authorization-server-metadata.ts';
export { discoverResource } from './discovery/discover-resource.ts';
export type { ResourceDiscovery, ResourceDiscoveryOptions } from './discovery/discover-resource.ts';
export { fetchProtectedResourceMetadata } from './discovery/protected-resource-metadata.ts';
export type { ResourceMetadata, ResourceMetadataDocument } from './discovery/protected-resource-metadata.ts';
export { AgentAuthClient } from './agent/client.ts';
export { AppAuthClient } from './agent/app-client.ts';
export type { AgentAuthClientOptions, AgentToken, AgentTokenRequest, AppAuthClientOptions, AppClientOptions } from './agent/client-options.ts';
export { FileTokenStore, type FileTokenStoreOptions } from './agent/file-token-store.ts';
export { MemoryTokenStore, tokenSetKey } from './agent/token-store.ts';
export type { DelegatedTokenSet, TokenStore } from './agent/token-store.ts';
export type { ApprovalRequest, PendingApproval, ToolCallApprovalRequest } from './agent/backchannel-approval.ts';
export { createActionUseRecorder } from './mcp/action-approval.ts';
export type { ActionUseRecorder, ActionUseRecorderOptions } from './mcp/action-approval.ts';
export { createToolCallReporter } from './mcp/tool-call-reporter.ts';
export type { ToolCallEvent, ToolCallReporter, ToolCallReporterOptions } from './mcp/tool-call-reporter.ts';
export { argumentsSha256, canonicalJson, MCP_TOOL_DETAIL_TYPE } from '@mandate/protocol';
export type { AuthorizationDetail, McpToolAuthorizationDetail } from '@mandate/protocol';
export type { HttpOptions } from './lib/fetch-json.ts';
export { verifyApprovalWebhook, type ApprovalWebhookOptions } from './admin/approval-webhook.ts';
export type { ApprovalEvent, ApprovalEventKind, ApprovalEventRequest } from '@mandate/protocol';
export { createDpopFetch, createDpopNonces, DpopProver, MemoryDpopReplayCache } from './dpop/index.ts';
export type { DpopNonces, DpopProverOptions, DpopReplayCache, DpopVerifyOptions, PresentedRequest } from './dpop/index.ts';
export { RevocationState, type RevocationStateOptions } from './verify/revocation-state.ts';
export { subscribeRevocations, verifyRevocationWebhook, REVOCATION_WEBHOOK_SIGNATURE_HEADER } from './verify/revocation-subscriber.ts';
export type { RevocationSubscriber, RevocationSubscriberOptions, RevocationWebhookOptions } from './verify/revocation-subscriber.ts';
export type { RevocationEvent } from '@mandate/protocol';
export { authenticateTxnToken, createTxnTokenClient, createTxnTokenVerifier, extractTxnToken, TOKEN_TYPE_TXN_TOKEN, TXN_TOKEN_HEADER, txnTokenRejectionFor } from './txn-token/index.ts';
export type {
  IssuedTxnToken,
  TxnTokenClaims,
  TxnTokenClient,
  TxnTokenClientOptions,
  TxnTokenContext,
  TxnTokenGuardOptions,
  TxnTokenOutcome,
  TxnTokenRejection,
  TxnTokenReplacementRequest,
  TxnTokenRequest,
  TxnTokenVerifier,
  TxnTokenVerifierOptions,
  TxnTokenVerifyOptions,
} from './txn-token/index.ts';
