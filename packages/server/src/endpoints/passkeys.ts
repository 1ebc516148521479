import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { BrowserSessions } from '../http/browser-session.ts';
import type { ServerContext } from '../http/context.ts';
import { userEndpointPaths } from '../http/context.ts';
import { safeReturnTo } from './page-response.ts';
import type { RouteDefinition } from '../http/route.ts';

/**
 * Passkeys (WebAuthn Level 3, via @simplewebauthn/server): registration from the account page, login from the
 * login page. Each ceremony's challenge is kept in the browser session and taken exactly once; the relying-party
 * id is the issuer's host (or `users.webauthnRpId`), the expected origin the issuer's. User verification is
 * required, so a passkey alone is a multi-factor login. The JSON calls come from `/static/passkey.js` and carry
 * the session's CSRF token in `x-csrf-token` (checked by the browser guard).
 */
export function passkeyEndpoints(ctx: ServerContext, sessions: BrowserSessions): RouteDefinition[] {
  const issuer = new URL(ctx.config.issuer);
  const base = issuer.pathname.replace(/\/$/, '');
  const rpID = ctx.config.users.webauthnRpId ?? issuer.hostname;
  const origin = issuer.origin;
  const challengeTtlSeconds = 300;
  const credentialBody = z.object({ response: z.record(z.string(), z.unknown()), return_to: z.string().max(4000).optional(), name: z.string().max(100).optional() });

  const problem = (reply: FastifyReply, status: number, detail: string) =>
    reply.code(status).type('application/problem+json').send(JSON.stringify({ type: 'urn:mandate:problem:invalid-request', title: 'Passkey not accepted', status, detail }));
  const json = (reply: FastifyReply, body: unknown) => reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));

  return [
    {
      method: 'POST',
      url: `${userEndpointPaths.login}/passkey/options`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.ensure(request, reply);
        // Discoverable credentials: the authenticator offers the user's passkeys, so no email is asked first.
        const options = await generateAuthenticationOptions({ rpID, userVerification: 'required', allowCredentials: [] });
        await ctx.store.setSessionChallenge(session.record.idHash, options.challenge, ctx.now() + challengeTtlSeconds);
        return json(reply, options);
      },
    },
    {
      method: 'POST',
      url: `${userEndpointPaths.login}/passkey`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.ensure(request, reply);
        const body = credentialBody.safeParse(request.body);
        const challenge = await ctx.store.takeSessionChallenge(session.record.idHash, ctx.now());
        const credentialId = body.success && typeof body.data.response['id'] === 'string' ? body.data.response['id'] : '';
        const passkey = credentialId ? await ctx.store.getPasskey(credentialId) : null;
        const user = passkey ? await ctx.store.getUser(passkey.userId) : null;
        let verified = false;
        let newCounter = 0;
        if (body.success && challenge && passkey && user?.status === 'active') {
          try {
            const result = await verifyAuthenticationResponse({
              response: body.data.response as never,
              expectedChallenge: challenge,
              expectedOrigin: origin,
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
          await ctx.audit.record({
            event: 'login.failed',
            actor: user?.id ?? null,
            subject: user?.id ?? null,
            ip: request.ip,
            detail: { method: 'passkey', reason: !challenge ? 'no pending challenge' : !passkey ? 'unknown credential' : 'verification failed' },
          });
          return problem(reply, 400, 'the passkey could not be verified');
        }
        await ctx.store.recordPasskeyUse(passkey.credentialId, newCounter, ctx.now());
        await ctx.audit.record({ event: 'login.succeeded', actor: user.id, subject: user.id, ip: request.ip, detail: { method: 'passkey', amr: ['hwk', 'user'] } });
        await sessions.login(request, reply, user.id, ['hwk', 'user']);
        return json(reply, { redirect: safeReturnTo(body.success ? body.data.return_to : undefined, base) });
      },
    },
    {
      method: 'POST',
      url: `${userEndpointPaths.account}/passkeys/options`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return problem(reply, 401, 'sign in first');
        const existing = await ctx.store.listPasskeys(session.user.id);
        const options = await generateRegistrationOptions({
          rpName: 'Mandate',
          rpID,
          userName: session.user.email ?? session.user.id,
          userDisplayName: session.user.name ?? session.user.email ?? '',
          userID: new TextEncoder().encode(session.user.id),
          attestationType: 'none',
          excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
          authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        });
        await ctx.store.setSessionChallenge(session.record.idHash, options.challenge, ctx.now() + challengeTtlSeconds);
        return json(reply, options);
      },
    },
    {
      method: 'POST',
      url: `${userEndpointPaths.account}/passkeys`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return problem(reply, 401, 'sign in first');
        const body = credentialBody.safeParse(request.body);
        const challenge = await ctx.store.takeSessionChallenge(session.record.idHash, ctx.now());
        if (!body.success || !challenge) return problem(reply, 400, 'no passkey registration is pending; try again');
        let info;
        try {
          const result = await verifyRegistrationResponse({ response: body.data.response as never, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: true });
          info = result.verified ? result.registrationInfo : undefined;
        } catch {
          info = undefined;
        }
        if (!info) return problem(reply, 400, 'the passkey could not be verified');
        const now = ctx.now();
        const name = body.data.name ?? 'Passkey';
        await ctx.store.createPasskey({
          credentialId: info.credential.id,
          userId: session.user.id,
          publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
          counter: info.credential.counter,
          transports: info.credential.transports ?? [],
          name,
          createdAt: now,
          lastUsedAt: null,
        });
        await ctx.audit.record({ event: 'passkey.registered', actor: session.user.id, subject: session.user.id, ip: request.ip, detail: { credential_id: info.credential.id, name } });
        return json(reply, { ok: true });
      },
    },
  ];
}
