import { z } from 'zod';

import { group, oneOf, seconds, wholeNumber, yesNo } from './option-types.ts';

/** Dynamic client registration and client metadata documents. */
export const registrationOptions = {
  registration: group({
    /**
     * Dynamic client registration (RFC 7591) at `<issuer>/register`: `open` (anyone may register a client, as MCP
     * hosts expect; every client still needs PKCE and the user's consent), `initial-access-token` (a registration
     * must present one of `initialAccessTokenHashes` as a Bearer token), or `off` (no registration endpoint, and
     * `registration_endpoint` leaves the metadata). Default open. Env MANDATE_REGISTRATION.
     */
    mode: oneOf(['open', 'initial-access-token', 'off']).default('open'),
    /**
     * Hex SHA-256 of each initial access token accepted in `initial-access-token` mode (the tokens themselves are
     * never configured: `printf %s "$TOKEN" | sha256sum`). Default none. Env MANDATE_REGISTRATION_TOKEN_HASHES (comma-separated).
     */
    initialAccessTokenHashes: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256')).max(100).default(() => []),
    /**
     * Issuers whose software statements (RFC 7591 §2.3: a signed JWT of client metadata) registration accepts, each
     * `{ issuer, jwks }` with the public keys it signs with. A statement's signature, `iss`, `exp` and `nbf` are
     * verified and its metadata takes precedence over the request's; a statement from another issuer is refused.
     * Default none (a statement is then refused as unapproved). Env MANDATE_REGISTRATION_SOFTWARE_STATEMENT_ISSUERS (a JSON array).
     */
    softwareStatementIssuers: z
      .array(z.strictObject({ issuer: z.string().min(1).max(2000), jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) }) }))
      .max(20)
      .default(() => []),
    /** Registration requests per minute per client address; 0 disables. Default 20: a host registers once per server. Env MANDATE_REGISTRATION_RATE_LIMIT. */
    perIpPerMinute: wholeNumber(0, 1_000_000).default(20),
    /**
     * A dynamically registered client nobody holds a grant for (never used, or all its grants ended) is deleted
     * this long after it registered. Default 86400 (1 day): a host registers and signs in within minutes; open
     * registration must not let unused clients pile up. Env MANDATE_REGISTRATION_UNUSED_TTL.
     */
    unusedClientTtlSeconds: seconds(300, 31_536_000).default(86_400),
    /**
     * Self-registered clients (RFC 7591, client metadata documents) may ask for the device authorization grant.
     * Default false: RFC 8628 §5.4 (remote phishing): a device code from an unvetted client, sent to someone with
     * a plausible story, gets a person to approve an attacker's device on a trusted page; operators grant it to
     * the clients they vouch for. Env MANDATE_REGISTRATION_DEVICE_GRANT.
     */
    allowDeviceGrant: yesNo().default(false),
    /**
     * A dynamically registered client whose name looks like the name of a client an operator created or of a
     * resource (the same letters, or look-alikes: "Сlaude" with a Cyrillic С, "CIaude", fullwidth letters), or
     * mixes Latin, Cyrillic and Greek letters: `warn` (registered; the consent page warns that it may be an
     * imitation, naming what it looks like) or `refuse` (the registration, or an RFC 7592 update, is refused with
     * `invalid_client_metadata`). Default warn. Env MANDATE_REGISTRATION_LOOK_ALIKE_NAMES.
     */
    lookAlikeNames: oneOf(['warn', 'refuse']).default('warn'),
  }),
  clientMetadataDocuments: group({
    /**
     * Accept an https URL as `client_id` and fetch its Client ID Metadata Document (MCP 2025-11-25). The fetch
     * connects only to public addresses, follows no redirect, reads at most 5 KiB. Default true. Env MANDATE_CLIENT_METADATA_DOCUMENTS.
     */
    enabled: yesNo().default(true),
    /**
     * Development only: also accept `http://localhost:<port>/…` (and 127.0.0.1, [::1]) client ids, fetched from
     * the loopback interface. Never on a deployed server: any local service could then define clients. Default false.
     * Env MANDATE_CLIENT_METADATA_ALLOW_HTTP_LOCALHOST.
     */
    allowHttpLocalhost: yesNo().default(false),
    /** The whole fetch (connect, answer, body) must finish within this. Default 3000 ms: the user waits on it. Env MANDATE_CLIENT_METADATA_TIMEOUT_MS. */
    timeoutMs: wholeNumber(100, 30_000, 'milliseconds').default(3000),
    /** A document is kept at least this long, whatever its Cache-Control says (no-store included). Default 60. */
    minCacheSeconds: seconds(0, 86_400).default(60),
    /** And at most this long, however long its Cache-Control allows. Default 86400 (1 day). */
    maxCacheSeconds: seconds(0, 604_800).default(86_400),
  }),
};
