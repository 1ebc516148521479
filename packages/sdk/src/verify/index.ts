export { createVerifier } from './create-verifier.ts';
export type { Verifier, VerifierOptions, VerifyOptions } from './create-verifier.ts';
export type { AccessTokenClaims, ActClaim, Actor, AuthInfo } from './auth-info.ts';
export type { JwsAlgorithm } from './algorithms.ts';
export type { IntrospectionCredentials, IntrospectionOptions } from './introspection.ts';
