export { createVerifier } from './create-verifier.ts';
export type { Verifier, VerifierOptions, VerifyOptions } from './create-verifier.ts';
export type { Actor, AuthInfo } from './auth-info.ts';
export { verifyDelegation } from './delegation.ts';
export type { DelegationPolicy } from './delegation.ts';
export type { AccessTokenClaims, ActClaim, JwsAlgorithm } from '@mandate/protocol';
export type { IntrospectionCredentials, IntrospectionOptions } from './introspection.ts';
export { createIntrospector, introspect } from './introspect.ts';
export type { IntrospectionClient, IntrospectionResponse, IntrospectOptions } from './introspect.ts';
