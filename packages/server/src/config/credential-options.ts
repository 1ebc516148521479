import { SIGNING_ALGORITHMS } from '@mandate/protocol';
import { z } from 'zod';

import { group, oneOf, seconds } from './option-types.ts';

/** Signing keys, token lifetimes, and how long a rotated agent secret or resource API key keeps working. */
export const credentialOptions = {
  keys: group({
    /**
     * Algorithm of newly generated signing keys. Default ES256: the fastest to sign and widely supported; RS256 is
     * what RFC 9068 §4 requires resource servers to accept; EdDSA for Ed25519. Env MANDATE_SIGNING_ALG.
     */
    algorithm: oneOf(SIGNING_ALGORITHMS).default('ES256'),
    /**
     * Key-encryption key (32 bytes, base64url) that encrypts signing keys at rest. Default: none, and a random one
     * is generated into `kekFile` on first start. Several instances on one database need the same KEK. Env MANDATE_KEK.
     */
    kek: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url-encoded (43 characters)').optional(),
    /** Where the generated KEK is kept (mode 0600) when `kek` is not set. Default `./.mandate/kek`, next to the SQLite file. Env MANDATE_KEK_FILE. */
    kekFile: z.string().min(1).default('./.mandate/kek'),
    /** How often a running server re-reads the key set, so that a `mandate keys rotate` elsewhere takes effect. Default 30 s. */
    reloadIntervalSeconds: seconds(1, 3600).default(30),
    /**
     * SR-08: how long a rotated-in key is published before any instance signs with it. It must cover the reload
     * interval plus how long resource servers cache the JWKS (we send max-age ≤ 300 s), so that none meets an
     * unknown `kid`. Default 600 (10 min); 0 signs at once (a compromised key). Per rotation: `keys rotate
     * --publish-ahead`, `publish_ahead_seconds`. Env MANDATE_KEY_PUBLISH_AHEAD.
     */
    publishAheadSeconds: seconds(0, 604_800).default(600),
    /**
     * Rotates the signing key on a schedule: once the newest key is this old, a running server makes a new one,
     * published ahead by `publishAheadSeconds` as a manual rotation is; several instances make one between them.
     * Default: none (rotate with `mandate keys rotate`). At least an hour. Env MANDATE_KEY_ROTATION_INTERVAL.
     */
    rotationIntervalSeconds: seconds(3600, 31_536_000).optional(),
    /**
     * An external signer (a KMS, an HSM) that holds the private signing keys: `module`, a path (relative to the
     * working directory) or package name exporting `createKeySigner(options)`, and the `options` it is given
     * (docs/deployment.md). New keys are made there; keys already in the database keep signing until rotated out.
     * Default: none, the keys are kept in the database encrypted under the KEK. Env MANDATE_KEYS_EXTERNAL_SIGNER (JSON).
     */
    externalSigner: z.strictObject({ module: z.string().min(1).max(2000), options: z.record(z.string(), z.unknown()).default({}) }).optional(),
  }),
  tokens: group({
    /** Default access-token lifetime; agents may set their own. Default 900 (15 min): short, as OAuth 2.1 and MCP recommend. Env MANDATE_ACCESS_TOKEN_TTL. */
    accessTokenTtlSeconds: seconds(60, 86_400).default(900),
    /** Ceiling on any access-token lifetime; a retired signing key stays in the JWKS this long. Default 86400 (1 day). */
    maxAccessTokenTtlSeconds: seconds(60, 604_800).default(86_400),
    /** Allowed clock difference when checking `exp`/`iat` of assertions presented to us. Default 60: hosts drift by seconds, not minutes. */
    clockSkewSeconds: seconds(0, 600).default(60),
    /** Longest lifetime accepted for a `private_key_jwt` client assertion (exp − now). Default 300: assertions are single-use and short. */
    clientAssertionMaxTtlSeconds: seconds(30, 3600).default(300),
  }),
  agents: group({
    /**
     * After `rotate-secret`, the previous secret keeps working this long so that deployments can roll over; 0 cuts
     * it at once (after a leak). `--grace` (CLI) and `grace_seconds` (admin API) set it per rotation. Default 86400
     * (1 day). Env MANDATE_SECRET_ROTATION_GRACE.
     */
    secretRotationGraceSeconds: seconds(0, 2_592_000).default(86_400),
  }),
  resources: group({
    /**
     * After `resource rotate-key`, the previous API key keeps authenticating introspection this long, so that the
     * resource server can be given the new key without refused calls; 0 cuts it at once. `--grace` / `grace_seconds`
     * set it per rotation. Default 86400 (1 day), like the secret grace. Env MANDATE_API_KEY_ROTATION_GRACE.
     */
    apiKeyRotationGraceSeconds: seconds(0, 2_592_000).default(86_400),
  }),
};
