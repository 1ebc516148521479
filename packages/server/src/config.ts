/**
 * The server's whole configuration, written once. Each option is its schema (what it accepts), its default, and a
 * comment with its meaning, unit, default and why that default, and the environment variable that sets it; the
 * options are defined by section in `config/`: process-options (listening, storage, and how the server runs),
 * credential-options (keys, tokens, rotation graces), user-options, authorization-options (+ the device grant),
 * cross-domain-options, registration-options, over option-types (the value types) and list-entries (one upstream
 * provider, trusted issuer or chaining peer). `config/schema.ts` composes them, with the rules between sections.
 *
 * `MandateConfig` is the schema's type and `defaults` is the schema applied to nothing, so nothing is written twice.
 * The configuration is parsed once at startup (`resolveConfig`: overrides over the defaults), frozen, and handed out
 * in parts; an invalid value is refused with its path and what it must be, e.g.
 * `tokens.accessTokenTtlSeconds must be a whole number of seconds between 60 and 86400 (from MANDATE_ACCESS_TOKEN_TTL)`.
 * `configFromEnvironment` (`config/environment.ts`) is the one reader of Mandate's environment variables
 * (`ENVIRONMENT_VARIABLES`). Everything outside `config/` imports the configuration from this module.
 */
export type { ChainingPeerConfig, ConfigOverrides, MandateConfig, TrustedIssuerConfig, UpstreamProviderConfig } from './config/schema.ts';
export { ConfigError, defaults, resolveConfig } from './config/resolve.ts';
export { CONFIG_FILE_VARIABLE, configFromEnvironment, configFromFileAndEnvironment, ENVIRONMENT_VARIABLES } from './config/environment.ts';
export { configFromFile } from './config/config-file.ts';
