/**
 * @mandate/server's public entry: what a program needs to run the authorization server inside its own process
 * (the `mandate` CLI is the usual way; `mandate serve` calls the same `startServer`). Everything else under `src/`
 * is internal and may change in any release.
 *
 * @example
 * const server = await startServer({ issuer: 'https://auth.example.com', port: 8787, databaseUrl: 'postgres://…' });
 * // … later
 * await server.close();
 */
export { ConfigError, configFromEnvironment, defaults, resolveConfig } from './config.ts';
export type { ConfigOverrides, MandateConfig, UpstreamProviderConfig } from './config.ts';
export { startServer } from './server.ts';
export type { RunningServer, StartOptions } from './server.ts';
export type { CreateKeySigner, ExternalKeySigner } from './keys/external-signer.ts';
