export { fetchAuthorizationServerMetadata, metadataUrls } from './authorization-server-metadata.ts';
export type { AuthorizationServerMetadata } from './authorization-server-metadata.ts';
export { discoverResource } from './discover-resource.ts';
export type { ResourceDiscovery, ResourceDiscoveryOptions } from './discover-resource.ts';
export { bearerChallenge, parseWwwAuthenticate } from './parse-challenge.ts';
export type { AuthChallenge, BearerChallengeParams } from './parse-challenge.ts';
export { fetchProtectedResourceMetadata, isSameResource, resourceMetadataCandidates } from './protected-resource-metadata.ts';
export type { FetchResourceMetadataOptions, ResourceMetadata, ResourceMetadataDocument } from './protected-resource-metadata.ts';
