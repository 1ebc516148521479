export { createTxnTokenVerifier } from './verifier.ts';
export type { TxnTokenContext, TxnTokenVerifier, TxnTokenVerifierOptions, TxnTokenVerifyOptions } from './verifier.ts';
export { authenticateTxnToken, extractTxnToken, txnTokenRejectionFor } from './header.ts';
export type { TxnTokenGuardOptions, TxnTokenOutcome, TxnTokenRejection } from './header.ts';
export { createTxnTokenClient } from './client.ts';
export type { IssuedTxnToken, TxnTokenClient, TxnTokenClientOptions, TxnTokenReplacementRequest, TxnTokenRequest } from './client.ts';
export { TXN_TOKEN_HEADER, TOKEN_TYPE_TXN_TOKEN } from '@mandate/protocol';
export type { TxnTokenClaims } from '@mandate/protocol';
