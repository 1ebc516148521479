import { z } from 'zod';

import { upstreamProvider } from './list-entries.ts';
import { group, seconds, wholeNumber, yesNo } from './option-types.ts';

/** Users: sessions, the login throttle, password resets, passkeys, self-signup. */
export const userOptions = {
  users: group({
    /** Lifetime of a signed-in browser session, absolute (not sliding). Default 43200: a working day, then log in again. */
    sessionTtlSeconds: seconds(300, 2_592_000).default(43_200),
    /**
     * A signed-in session not used for this long ends, whatever its absolute lifetime left (OWASP session
     * management: an idle timeout beside the absolute one). Default 1800 (30 min), as Keycloak's SSO idle
     * timeout: a browser left alone is signed out soon, one in use keeps its working day. Env MANDATE_SESSION_IDLE_TIMEOUT.
     */
    sessionIdleTimeoutSeconds: seconds(60, 2_592_000).default(1800),
    /**
     * Lifetime of a session before anyone logs in: one is started only by a passkey or upstream login, for its
     * WebAuthn challenge or `state` (the login page's CSRF token needs none). Default 1800.
     */
    anonymousSessionTtlSeconds: seconds(60, 86_400).default(1800),
    /**
     * New anonymous sessions (a passkey or upstream login starting) per minute per client address; past it, 429
     * (SR-13: nothing a stranger sends may write rows without bound). In memory, per instance; 0 disables. Default 30.
     */
    anonymousSessionsPerIpPerMinute: wholeNumber(0, 1_000_000).default(30),
    /** Failed logins per account before each further failure locks the account (exponential backoff). Default 5. */
    accountFreeFailures: wholeNumber(1, 100).default(5),
    /** Failed logins per client address before the address is locked the same way. Default 30: higher, since NAT is shared. */
    ipFreeFailures: wholeNumber(1, 10_000).default(30),
    /** First lock after the free failures, doubled for each further failure up to `maxLockSeconds`. Default 2. */
    baseLockSeconds: seconds(1, 3600).default(2),
    /** Longest lock. Default 900 (15 min): slows guessing to a crawl without locking a user out for the day. */
    maxLockSeconds: seconds(1, 86_400).default(900),
    /**
     * Login attempts (password and passkey) per minute per client address, checked or not: a flood ceiling beside
     * the throttle, which admits an attempt on any account a locked address has not guessed (SR-06), so that the
     * scrypt work one address can cause stays bounded. In memory, per instance; 0 disables. Default 120.
     */
    loginAttemptsPerIpPerMinute: wholeNumber(0, 1_000_000).default(120),
    /** A failure counter resets when its last failure is older than this. Default 3600. */
    failureWindowSeconds: seconds(60, 86_400).default(3600),
    /**
     * An admin password reset (`mandate user set-password`, `PATCH /admin/v1/users/{id}` with `password`) also
     * revokes every grant the user gave, so their refresh tokens and the access tokens derived from them stop at
     * once (their sessions always end). Default true: a reset is usually made because the password may be known
     * to someone else, who may also hold the tokens it obtained. Env MANDATE_PASSWORD_RESET_REVOKES_GRANTS.
     */
    passwordResetRevokesGrants: yesNo().default(true),
    /**
     * An admin password reset also removes the user's passkeys (SR-15): whoever had the account may have added
     * one, which would outlive the new password. Default true; turn it off only where passkeys are enrolled by
     * other means you trust. Env MANDATE_PASSWORD_RESET_REVOKES_PASSKEYS.
     */
    passwordResetRevokesPasskeys: yesNo().default(true),
    /**
     * Adding a passkey needs a login at most this long ago (SR-15), else the account page asks to sign in again:
     * a borrowed or stolen session cookie must not plant a permanent way in. Default 300 (5 minutes). Env
     * MANDATE_PASSKEY_REGISTRATION_MAX_AUTH_AGE.
     */
    passkeyRegistrationMaxAuthAgeSeconds: seconds(0, 86_400).default(300),
    /**
     * Self-signup: anyone may create an account (email, password) at `/signup` and is signed in; such accounts get
     * no role, and their email is unverified. Default false: an operator creates accounts (CLI, admin API,
     * console), or upstream login does. Env MANDATE_SELF_SIGNUP.
     */
    selfSignup: yesNo().default(false),
    /**
     * WebAuthn relying-party id: a registrable suffix of the issuer's host. Default: the issuer's host name.
     * Passkeys are bound to it; changing it later orphans every registered passkey.
     */
    webauthnRpId: z.string().regex(/^[a-z0-9.-]+$/, 'must be a host name').optional(),
  }),
};

/** The upstream OpenID providers users may sign in with. */
export const upstreamProviderOptions = {
  /**
   * Upstream OpenID providers users may log in with (Google, or any issuer with OIDC discovery), shown as buttons on
   * the login page: `id`, `name`, `issuer`, `clientId`, optional `clientSecret`, `scopes` (default openid email
   * profile), `linkByVerifiedEmail` (default false), `provision` (default true). The redirect URI to register with
   * the provider is `<issuer>/login/upstream/<id>/callback`. Default none. Env MANDATE_UPSTREAM_PROVIDERS (a JSON array).
   */
  upstreamProviders: z
    .array(upstreamProvider)
    .max(20, 'must list at most 20 providers')
    .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'must have unique provider ids')
    .default(() => []),
};
