export { authenticateCredentials, authenticateRequest, insufficientScopeChallenge, rejectionFor, rejectionResponse } from './authenticate-request.ts';
export type { AuthenticateOptions, AuthOutcome, Rejection } from './authenticate-request.ts';
export { extractBearerToken } from './extract-token.ts';
export type { CredentialSources, HeaderSource } from './extract-token.ts';
export { buildWwwAuthenticate } from './www-authenticate.ts';
export type { BearerChallenge } from './www-authenticate.ts';
