import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import { type PasskeyRecords, type SessionRecords, StoreConflictError, type UserRecord, type UserRecords } from '../store/store.ts';
import { accountThrottleKey, admitLogin, type LoginThrottleDeps, loginSucceeded, otherThrottleKey } from '../users/login-throttle.ts';

export interface PasskeyDeps extends LoginThrottleDeps {
  challenges: Pick<SessionRecords, 'setSessionChallenge' | 'takeSessionChallenge'>;
  passkeys: Pick<PasskeyRecords, 'getPasskey' | 'listPasskeys' | 'createPasskey' | 'recordPasskeyUse' | 'deletePasskey'>;
  users: Pick<UserRecords, 'getUser'>;
  audit: Pick<AuditLog, 'record'>;
  /** The relying-party id (the issuer's host, or `users.webauthnRpId`) and the expected origin (the issuer's). */
  relyingParty: { id: string; origin: string };
  /** `users.passkeyRegistrationMaxAuthAgeSeconds`. */
  registrationMaxAuthAgeSeconds: number;
}

const credentialBody = z.object({ response: z.record(z.string(), z.unknown()), return_to: z.string().max(4000).optional(), name: z.string().max(100).optional() });
/** What the passkey script posts: the authenticator's response, and where to go next or what to call the passkey. */
export type PasskeyCredential = z.infer<typeof credentialBody>;

/** The RFC 8176 methods of a passkey login: hardware key, with user verification. */
export const PASSKEY_AMR = ['hwk', 'user'];

const CHALLENGE_TTL_SECONDS = 300;

/** @simplewebauthn/server (with its ASN.1 and X.509 stack, ~15 MB) is loaded at the first passkey ceremony, not at start. */
let webauthnModule: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => (webauthnModule ??= import('@simplewebauthn/server'));

const reauthenticate: RegistrationRefusal = { ok: false, description: 'sign in again to add a passkey', reauthenticate: true };

/** The signed-in user as registration needs them: who, and when they last proved it. */
export interface RegisteringUser {
  user: UserRecord;
  /** The session's `auth_time`. */
  authTime: number | null;
}

export type RegistrationRefusal = { ok: false; description: string; conflict?: true; reauthenticate?: true };

/**
 * Passkeys (WebAuthn Level 3, via @simplewebauthn/server): registration for a user who signed in recently, login
 * with a discoverable credential, removal by the user. Each ceremony's challenge is kept in the browser session and
 * taken exactly once. User verification is required, so a passkey alone is a multi-factor login. Logins share the
 * password login's throttle (counted before verification, SR-15); refused ones are counted in the audit trail,
 * successes each get their row.
 */
export function passkeyFlow(deps: PasskeyDeps) {
  const rpID = deps.relyingParty.id;
  const expectedOrigin = deps.relyingParty.origin;
  /** Whether the user may add a passkey now: only within `registrationMaxAuthAgeSeconds` of signing in (SR-15). */
  const mayRegister = ({ authTime }: Pick<RegisteringUser, 'authTime'>, now: number): boolean =>
    authTime !== null && now - authTime <= deps.registrationMaxAuthAgeSeconds;

  return {
    /** The posted body as a credential, or null when it is not one (the ceremony still spends its challenge). */
    parseCredential(body: unknown): PasskeyCredential | null {
      const parsed = credentialBody.safeParse(body);
      return parsed.success ? parsed.data : null;
    },

    async loginOptions({ sessionHash, now }: { sessionHash: string; now: number }) {
      // Discoverable credentials: the authenticator offers the user's passkeys, so no email is asked first.
      const options = await (await webauthn()).generateAuthenticationOptions({ rpID, userVerification: 'required', allowCredentials: [] });
      await deps.challenges.setSessionChallenge(sessionHash, options.challenge, now + CHALLENGE_TTL_SECONDS);
      return options;
    },

    async login({ sessionHash, credential, ip, now }: { sessionHash: string; credential: PasskeyCredential | null; ip: string; now: number }): Promise<{ ok: true; userId: string } | { ok: false; retryAfterSeconds?: number }> {
      const challenge = await deps.challenges.takeSessionChallenge(sessionHash, now);
      const credentialId = credential && typeof credential.response['id'] === 'string' ? credential.response['id'] : '';
      const passkey = credentialId ? await deps.passkeys.getPasskey(credentialId) : null;
      const user = passkey ? await deps.users.getUser(passkey.userId) : null;
      const account = user ? (user.email ? accountThrottleKey(user.email) : otherThrottleKey('user', user.id)) : otherThrottleKey('credential', credentialId);
      const admitted = await admitLogin(deps, { account, ip, method: 'passkey', now });
      if (!admitted.ok) return { ok: false, retryAfterSeconds: admitted.retryAfterSeconds };
      let verified = false;
      let newCounter = 0;
      if (credential && challenge && passkey && user?.status === 'active') {
        try {
          const result = await (await webauthn()).verifyAuthenticationResponse({
            response: credential.response as never,
            expectedChallenge: challenge,
            expectedOrigin,
            expectedRPID: rpID,
            credential: { id: passkey.credentialId, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: passkey.counter, transports: passkey.transports as never },
            requireUserVerification: true,
          });
          verified = result.verified;
          newCounter = result.authenticationInfo.newCounter;
        } catch {
          verified = false;
        }
      }
      if (!verified || !passkey || !user) {
        // Anyone can post assertions: the first failure of an address in a minute gets its row, the rest a count.
        await deps.refusals.record({
          event: 'login.failed',
          actor: user?.id ?? null,
          subject: user?.id ?? null,
          ip,
          detail: { error: !challenge ? 'no pending challenge' : !passkey ? 'unknown credential' : 'verification failed', method: 'passkey' },
        });
        return { ok: false };
      }
      await loginSucceeded(deps, { account, ip, now });
      await deps.passkeys.recordPasskeyUse(passkey.credentialId, newCounter, now);
      await deps.audit.record({ event: 'login.succeeded', actor: user.id, subject: user.id, ip, detail: { method: 'passkey', amr: PASSKEY_AMR } });
      return { ok: true, userId: user.id };
    },

    mayRegister,

    async registrationOptions({ user, authTime, sessionHash, now }: RegisteringUser & { sessionHash: string; now: number }): Promise<{ ok: true; options: unknown } | RegistrationRefusal> {
      if (!mayRegister({ authTime }, now)) return reauthenticate;
      const existing = await deps.passkeys.listPasskeys(user.id);
      const options = await (await webauthn()).generateRegistrationOptions({
        rpName: 'Mandate',
        rpID,
        userName: user.email ?? user.id,
        userDisplayName: user.name ?? user.email ?? '',
        userID: new TextEncoder().encode(user.id),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      await deps.challenges.setSessionChallenge(sessionHash, options.challenge, now + CHALLENGE_TTL_SECONDS);
      return { ok: true, options };
    },

    async register(input: RegisteringUser & { sessionHash: string; credential: PasskeyCredential | null; ip: string; now: number }): Promise<{ ok: true } | RegistrationRefusal> {
      const { user, credential, now } = input;
      // Checked again at the end: the ceremony may have started just inside the window.
      if (!mayRegister(input, now)) {
        await deps.refusals.record({ event: 'passkey.refused', actor: user.id, subject: user.id, ip: input.ip, detail: { error: 'login too old to add a passkey' } });
        return reauthenticate;
      }
      const challenge = await deps.challenges.takeSessionChallenge(input.sessionHash, now);
      if (!credential || !challenge) return { ok: false, description: 'no passkey registration is pending; try again' };
      let info;
      try {
        const result = await (await webauthn()).verifyRegistrationResponse({ response: credential.response as never, expectedChallenge: challenge, expectedOrigin, expectedRPID: rpID, requireUserVerification: true });
        info = result.verified ? result.registrationInfo : undefined;
      } catch {
        info = undefined;
      }
      if (!info) return { ok: false, description: 'the passkey could not be verified' };
      const name = credential.name ?? 'Passkey';
      try {
        await deps.passkeys.createPasskey({
          credentialId: info.credential.id,
          userId: user.id,
          publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
          counter: info.credential.counter,
          transports: info.credential.transports ?? [],
          name,
          createdAt: now,
          lastUsedAt: null,
        });
      } catch (err) {
        // The credential id is the authenticator's (the client's) choice: one registered already, by anyone, is refused (SR-11).
        if (!(err instanceof StoreConflictError)) throw err;
        await deps.audit.record({ event: 'passkey.refused', actor: user.id, subject: user.id, ip: input.ip, detail: { credential_id: info.credential.id, reason: 'credential id registered already' } });
        return { ok: false, description: 'this passkey is registered already', conflict: true };
      }
      await deps.audit.record({ event: 'passkey.registered', actor: user.id, subject: user.id, ip: input.ip, detail: { credential_id: info.credential.id, name } });
      return { ok: true };
    },

    /** The user removes one of their own passkeys; false when they have none by that id. */
    async remove({ user, credentialId, ip }: { user: UserRecord; credentialId: string; ip: string }): Promise<boolean> {
      if (!credentialId || !(await deps.passkeys.deletePasskey(user.id, credentialId))) return false;
      await deps.audit.record({ event: 'passkey.removed', actor: user.id, subject: user.id, ip, detail: { credential_id: credentialId, by: 'user' } });
      return true;
    },
  };
}

export type PasskeyFlow = ReturnType<typeof passkeyFlow>;
