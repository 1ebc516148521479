/**
 * @mandate/protocol: the protocol code the server and the SDK share, written once. It depends on node:crypto alone
 * and never on HTTP, storage or either package. Published with the SDK at the same version (docs/sdk.md).
 */
export type { AccessTokenClaims, ActClaim, ActorIdentity, CnfClaim, IdTokenClaims, MayActClaim, RegisteredClaims } from './claims.ts';
export { ACCESS_TOKEN_TYP, ID_TOKEN_TYP, RESOURCE_SERVER_PROFILE } from './claims.ts';
export {
  CLIENT_ASSERTION_TYPE_JWT_BEARER,
  GRANT_TYPE_TOKEN_EXCHANGE,
  GRANT_TYPE_CIBA,
  GRANT_TYPE_DEVICE_CODE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_ID_TOKEN,
  TOKEN_TYPE_JWT,
} from './urns.ts';
export { argumentsSha256, canonicalJson } from './canonical-json.ts';
export { MCP_TOOL_DETAIL_TYPE, mcpToolDetails } from './authorization-details.ts';
export type { AuthorizationDetail, McpToolAuthorizationDetail } from './authorization-details.ts';
export type { DelegatedToken, DelegationPolicy, DelegationViolation } from './delegation-chain.ts';
export { actorsOf, checkDelegationChain, hasHumanRoot } from './delegation-chain.ts';
export type { JwsAlgorithm, SignatureCheck, SignatureMaker, SigningAlgorithm } from './algorithms.ts';
export { isJwsAlgorithm, JWS_ALGORITHMS, keyTypeFor, SIGNING_ALGORITHMS, signatureCheckFor, signatureMakerFor } from './algorithms.ts';
export { ecdsaDerToJose, ecdsaJoseToDer } from './ecdsa-signature.ts';
export { GRANT_PROFILE_ID_JAG, GRANT_TYPE_JWT_BEARER, GRANT_TYPE_JWT_DPOP, ID_JAG_TYP, TOKEN_TYPE_ID_JAG } from './urns.ts';
export { MAX_COMPACT_JWS_LENGTH, parseCompactJws } from './parse-compact-jws.ts';
export type { MalformedJws, ParsedJws } from './parse-compact-jws.ts';
export { encodeCompactJws, encodeCompactJwsWith } from './encode-compact-jws.ts';
export type { JwsSigner, JwsSigningKey } from './encode-compact-jws.ts';
export { normalizeTyp, verifyCompactJws } from './verify-compact-jws.ts';
export type { JwsRefusal, JwsVerifyOptions, VerifiedJws } from './verify-compact-jws.ts';
export { jwkThumbprint } from './jwk-thumbprint.ts';
export { accessTokenHash, createDpopProof, DPOP_PROOF_TYP, dpopKeyFrom, normalizeHtu, verifyDpopProof } from './dpop-proof.ts';
export type { DpopKey, DpopProofExpectations, DpopProofFailure, DpopProofRequest, DpopProofResult } from './dpop-proof.ts';
export { createDpopNonces } from './dpop-nonce.ts';
export type { DpopNonces } from './dpop-nonce.ts';
export { isRevokedBy, parseRevocationEvent, REVOCATION_EVENT_TYPE, revocationEventConcerns, REVOCATION_WEBHOOK_SIGNATURE_HEADER, revocationWebhookSignatureProblem, signRevocationWebhook } from './revocation-event.ts';
export type { RevocationCutoff, RevocationEvent } from './revocation-event.ts';
export { signWebhook, WEBHOOK_SIGNATURE_HEADER, webhookSignatureProblem } from './webhook-signature.ts';
export { APPROVAL_EVENT_KINDS, parseApprovalEvent } from './approval-event.ts';
export type { ApprovalEvent, ApprovalEventKind, ApprovalEventRequest } from './approval-event.ts';
export type { AdminAgent, AdminProblem, AdminResource, AdminResourceScope } from './admin-api.ts';
export { checkTxnTokenClaims, TOKEN_TYPE_REFRESH_TOKEN, TOKEN_TYPE_TXN_TOKEN, TXN_TOKEN_HEADER, TXN_TOKEN_TYP, txnTokenScopes } from './txn-token.ts';
export type { TxnTokenClaimExpectations, TxnTokenClaimProblem, TxnTokenClaims } from './txn-token.ts';
