import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import { type PasskeyRecords, type SessionRecords, StoreConflictError, type UserRecord, type UserRecords } from '../store/store.ts';

export interface PasskeyDeps {
  challenges: Pick<SessionRecords, 'setSessionChallenge' | 'takeSessionChallenge'>;
  passkeys: Pick<PasskeyRecords, 'getPasskey' | 'listPasskeys' | 'createPasskey' | 'recordPasskeyUse'>;
  users: Pick<UserRecords, 'getUser'>;
  audit: Pick<AuditLog, 'record'>;
  /** The relying-party id (the issuer's host, or `users.webauthnRpId`) and the expected origin (the issuer's). */
  relyingParty: { id: string; origin: string };
}

const credentialBody = z.object({ response: z.record(z.string(), z.unknown()), return_to: z.string().max(4000).optional(), name: z.string().max(100).optional() });
/** What the passkey script posts: the authenticator's response, and where to go next or what to call the passkey. */
export type PasskeyCredential = z.infer<typeof credentialBody>;

/** The RFC 8176 methods of a passkey login: hardware key, with user verification. */
export const PASSKEY_AMR = ['hwk', 'user'];

const CHALLENGE_TTL_SECONDS = 300;

/**
 * Passkeys (WebAuthn Level 3, via @simplewebauthn/server): registration for a signed-in user, login with a
 * discoverable credential. Each ceremony's challenge is kept in the browser session and taken exactly once. User
 * verification is required, so a passkey alone is a multi-factor login. Every login outcome is audited.
 */
export function passkeyFlow(deps: PasskeyDeps) {
  const rpID = deps.relyingParty.id;
  const expectedOrigin = deps.relyingParty.origin;

  return {
    /** The posted body as a credential, or null when it is not one (the ceremony still spends its challenge). */
    parseCredential(body: unknown): PasskeyCredential | null {
      const parsed = credentialBody.safeParse(body);
      return parsed.success ? parsed.data : null;
    },

    async loginOptions({ sessionHash, now }: { sessionHash: string; now: number }) {
      // Discoverable credentials: the authenticator offers the user's passkeys, so no email is asked first.
      const options = await generateAuthenticationOptions({ rpID, userVerification: 'required', allowCredentials: [] });
      await deps.challenges.setSessionChallenge(sessionHash, options.challenge, now + CHALLENGE_TTL_SECONDS);
      return options;
    },

    async login({ sessionHash, credential, ip, now }: { sessionHash: string; credential: PasskeyCredential | null; ip: string; now: number }): Promise<{ ok: true; userId: string } | { ok: false }> {
      const challenge = await deps.challenges.takeSessionChallenge(sessionHash, now);
      const credentialId = credential && typeof credential.response['id'] === 'string' ? credential.response['id'] : '';
      const passkey = credentialId ? await deps.passkeys.getPasskey(credentialId) : null;
      const user = passkey ? await deps.users.getUser(passkey.userId) : null;
      let verified = false;
      let newCounter = 0;
      if (credential && challenge && passkey && user?.status === 'active') {
        try {
          const result = await verifyAuthenticationResponse({
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
        await deps.audit.record({
          event: 'login.failed',
          actor: user?.id ?? null,
          subject: user?.id ?? null,
          ip,
          detail: { method: 'passkey', reason: !challenge ? 'no pending challenge' : !passkey ? 'unknown credential' : 'verification failed' },
        });
        return { ok: false };
      }
      await deps.passkeys.recordPasskeyUse(passkey.credentialId, newCounter, now);
      await deps.audit.record({ event: 'login.succeeded', actor: user.id, subject: user.id, ip, detail: { method: 'passkey', amr: PASSKEY_AMR } });
      return { ok: true, userId: user.id };
    },

    async registrationOptions({ user, sessionHash, now }: { user: UserRecord; sessionHash: string; now: number }) {
      const existing = await deps.passkeys.listPasskeys(user.id);
      const options = await generateRegistrationOptions({
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
      return options;
    },

    async register(input: { user: UserRecord; sessionHash: string; credential: PasskeyCredential | null; ip: string; now: number }): Promise<{ ok: true } | { ok: false; description: string; conflict?: true }> {
      const { user, credential, now } = input;
      const challenge = await deps.challenges.takeSessionChallenge(input.sessionHash, now);
      if (!credential || !challenge) return { ok: false, description: 'no passkey registration is pending; try again' };
      let info;
      try {
        const result = await verifyRegistrationResponse({ response: credential.response as never, expectedChallenge: challenge, expectedOrigin, expectedRPID: rpID, requireUserVerification: true });
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
  };
}

export type PasskeyFlow = ReturnType<typeof passkeyFlow>;
