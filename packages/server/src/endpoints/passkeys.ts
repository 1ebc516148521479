import type { FastifyReply } from 'fastify';
import { PASSKEY_AMR, type PasskeyFlow } from '../flows/passkeys.ts';
import type { BrowserSessions } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import type { RouteDefinition } from '../http/route.ts';
import { floodCeiling, type LoginEndpointDeps } from './login.ts';
import { pageForm, safeReturnTo, seeOther } from './page-response.ts';

/**
 * HTTP face of `flows/passkeys.ts`: the JSON calls of `/static/passkey.js`, which carry the session's CSRF token in
 * `x-csrf-token` (checked by the browser guard). Login from the login page, registration from the account page
 * (within a few minutes of signing in, SR-15), and the account page's form that removes one.
 */
export function passkeyEndpoints(
  issuer: string,
  passkeys: PasskeyFlow,
  sessions: BrowserSessions,
  now: () => number,
  /** The login endpoints' per-address ceiling, shared with password logins. */
  ceiling: Pick<LoginEndpointDeps, 'loginRate' | 'audit'>,
): RouteDefinition[] {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
  const problem = (reply: FastifyReply, status: number, detail: string) =>
    reply.code(status).type('application/problem+json').send(JSON.stringify({ type: 'urn:mandate:problem:invalid-request', title: 'Passkey not accepted', status, detail }));
  const tooMany = (reply: FastifyReply, seconds: number) =>
    problem(reply.header('retry-after', String(seconds)), 429, `too many attempts; try again in ${seconds} seconds`);
  const json = (reply: FastifyReply, body: unknown) => reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));

  return [
    {
      method: 'POST',
      url: `${userEndpointPaths.login}/passkey/options`,
      access: 'browser',
      anonymousForm: true,
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.ensure(request, reply);
        if (!('record' in session)) return tooMany(reply, session.retryAfter);
        return json(reply, await passkeys.loginOptions({ sessionHash: session.record.idHash, now: now() }));
      },
    },
    {
      method: 'POST',
      url: `${userEndpointPaths.login}/passkey`,
      access: 'browser',
      anonymousForm: true,
      errorFormat: 'problem',
      async handler(request, reply) {
        const limited = await floodCeiling(ceiling, request.ip, 'passkey');
        if (limited) return tooMany(reply, limited);
        const session = await sessions.ensure(request, reply);
        if (!('record' in session)) return tooMany(reply, session.retryAfter);
        const credential = passkeys.parseCredential(request.body);
        const result = await passkeys.login({ sessionHash: session.record.idHash, credential, ip: request.ip, now: now() });
        if (!result.ok && result.retryAfterSeconds) return tooMany(reply, result.retryAfterSeconds);
        if (!result.ok) return problem(reply, 400, 'the passkey could not be verified');
        await sessions.login(request, reply, result.userId, PASSKEY_AMR);
        return json(reply, { redirect: safeReturnTo(credential?.return_to, base) });
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
        const result = await passkeys.registrationOptions({ user: session.user, authTime: session.record.authTime, sessionHash: session.record.idHash, now: now() });
        if (!result.ok) return problem(reply, 403, result.description);
        return json(reply, result.options);
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
        const result = await passkeys.register({
          user: session.user,
          authTime: session.record.authTime,
          sessionHash: session.record.idHash,
          credential: passkeys.parseCredential(request.body),
          ip: request.ip,
          now: now(),
        });
        if (!result.ok) return problem(reply, result.conflict ? 409 : result.reauthenticate ? 403 : 400, result.description);
        return json(reply, { ok: true });
      },
    },
    {
      method: 'POST',
      url: `${userEndpointPaths.account}/passkeys/remove`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return reply.code(303).header('location', `${base}${userEndpointPaths.login}`).send();
        const removed = await passkeys.remove({ user: session.user, credentialId: pageForm(request).get('credential_id') ?? '', ip: request.ip });
        return seeOther(reply, `${base}${userEndpointPaths.account}?notice=${removed ? 'passkey-removed' : 'passkey-gone'}`);
      },
    },
  ];
}
