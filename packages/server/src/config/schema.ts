import { z } from 'zod';

import { authorizationOptions, deviceOptions } from './authorization-options.ts';
import { credentialOptions } from './credential-options.ts';
import { crossDomainOptions } from './cross-domain-options.ts';
import { operationOptions, processOptions } from './process-options.ts';
import { registrationOptions } from './registration-options.ts';
import { upstreamProviderOptions, userOptions } from './user-options.ts';

/** The whole configuration: every section's options, in this order, and the rules between options of different sections. */
export const configSchema = z
  .strictObject({
    ...processOptions,
    ...credentialOptions,
    ...userOptions,
    ...authorizationOptions,
    ...upstreamProviderOptions,
    ...crossDomainOptions,
    ...registrationOptions,
    ...deviceOptions,
    ...operationOptions,
  })
  .refine((c) => c.tokens.accessTokenTtlSeconds <= c.tokens.maxAccessTokenTtlSeconds, {
    message: 'must not exceed tokens.maxAccessTokenTtlSeconds',
    path: ['tokens', 'accessTokenTtlSeconds'],
  })
  .refine((c) => c.authorization.idTokenTtlSeconds <= c.tokens.maxAccessTokenTtlSeconds, {
    message: 'must not exceed tokens.maxAccessTokenTtlSeconds (the key-rotation overlap)',
    path: ['authorization', 'idTokenTtlSeconds'],
  })
  .refine((c) => c.authorization.refreshTokenIdleTtlSeconds <= c.authorization.refreshTokenFamilyTtlSeconds, {
    message: 'must not exceed authorization.refreshTokenFamilyTtlSeconds',
    path: ['authorization', 'refreshTokenIdleTtlSeconds'],
  })
  .refine((c) => c.clientMetadataDocuments.minCacheSeconds <= c.clientMetadataDocuments.maxCacheSeconds, {
    message: 'must not exceed clientMetadataDocuments.maxCacheSeconds',
    path: ['clientMetadataDocuments', 'minCacheSeconds'],
  })
  .refine((c) => c.registration.mode !== 'initial-access-token' || c.registration.initialAccessTokenHashes.length > 0, {
    message: 'must list at least one token hash when registration.mode is initial-access-token',
    path: ['registration', 'initialAccessTokenHashes'],
  })
  .refine((c) => !c.fapi2SecurityProfile || c.authorization.codeTtlSeconds <= 60, {
    message: 'must be at most 60 in the FAPI 2.0 mode (FAPI 2.0 Security Profile §5.3.2.1)',
    path: ['authorization', 'codeTtlSeconds'],
  })
  .refine((c) => !c.fapi2SecurityProfile || c.authorization.pushedRequestTtlSeconds < 600, {
    message: 'must be less than 600 in the FAPI 2.0 mode',
    path: ['authorization', 'pushedRequestTtlSeconds'],
  })
  .refine((c) => c.users.baseLockSeconds <= c.users.maxLockSeconds, {
    message: 'must not exceed users.maxLockSeconds',
    path: ['users', 'baseLockSeconds'],
  });

type DeepReadonly<T> = T extends readonly (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The parsed, frozen configuration. */
export type MandateConfig = DeepReadonly<z.output<typeof configSchema>>;
/** What an embedder, the environment or the CLI may set: any part of the configuration, the rest defaulted. */
export type ConfigOverrides = z.input<typeof configSchema>;
export type UpstreamProviderConfig = MandateConfig['upstreamProviders'][number];
export type TrustedIssuerConfig = MandateConfig['crossDomain']['trustedIssuers'][number];
export type ChainingPeerConfig = MandateConfig['crossDomain']['peers'][number];

