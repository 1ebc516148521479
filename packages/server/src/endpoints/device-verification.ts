import { GRANT_TYPE_DEVICE_CODE } from '@mandate/protocol';
import type { FastifyReply } from 'fastify';
import type { SignedInUser } from '../flows/authorize.ts';
import type { DeviceAuthorizationFlow } from '../flows/device-authorization.ts';
import { type BrowserSessions, csrfToken, type SignedInSession } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import type { SharedRateCounts } from '../http/shared-rate-counts.ts';
import type { RouteDefinition } from '../http/route.ts';
import { deviceConfirmPage, deviceEntryPage } from '../ui/device-page.ts';
import { messagePage } from '../ui/layout.ts';
import { pageForm, sendPage } from './page-response.ts';

export interface DeviceVerificationSettings {
  /** Codes entered per minute per address (RFC 8628 §5.1). */
  userCodeAttemptsPerIpPerMinute: number;
  /** Wrong codes per minute from every address together. */
  userCodeFailuresPerMinute: number;
}

const signedInUser = (session: SignedInSession): SignedInUser => ({
  id: session.user.id,
  email: session.user.email,
  authTime: session.record.authTime,
  amr: session.record.amr,
  sessionHash: session.record.idHash,
});

/** What a person typed, as the form may show it again: short, printable. */
const typedCode = (value: string | null | undefined) => (value ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 20);

/** Shared counts' key that says some instance ran out of wrong codes this minute: every instance then waits. */
const LOCKED_KEY = 'device-code-locked';
/** The wrong codes' one counter: every address's together. */
const ALL = 'all';

/**
 * RFC 8628 §3.3 verification pages: `GET /device` (the code entry form, prefilled from `verification_uri_complete`;
 * signs the person in first), `POST /device` (the code: the confirmation page), `POST /device/decision` (approve or
 * deny). Both POSTs pass the CSRF guard of browser routes. Guessing is slowed twice (§5.1): codes entered per address
 * per minute, and wrong codes per minute from all addresses together; past either, 429 with Retry-After. With
 * shared rate limits, both count across the instances on one database.
 */
export function deviceVerificationEndpoints(
  issuer: string,
  flow: DeviceAuthorizationFlow,
  sessions: BrowserSessions,
  settings: DeviceVerificationSettings,
  now: () => number,
  sharedCounts?: SharedRateCounts,
): RouteDefinition[] {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
  const nowMs = () => now() * 1000;
  // With `rateLimit.shared`, instances on one database count attempts and wrong codes together (an attacker spread
  // over N instances gets the rate once, not N times), and a lock taken on one holds on all of them.
  const shared = (prefix: string) => (sharedCounts ? { counts: sharedCounts, prefix } : undefined);
  const attempts = new RateLimiter(settings.userCodeAttemptsPerIpPerMinute, nowMs, shared('device-code-ip:'));
  const failures = new RateLimiter(settings.userCodeFailuresPerMinute, nowMs, shared('device-code-failures:'));
  /** Until when (ms) every code entry waits, after the failures of all addresses ran out. */
  let lockedUntilMs = 0;

  /** Null when this attempt may proceed; otherwise the seconds to wait. */
  function throttled(ip: string): number | null {
    if (nowMs() < lockedUntilMs) return Math.ceil((lockedUntilMs - nowMs()) / 1000);
    if (sharedCounts) {
      // Read back at every sync this minute: keys only other instances may be counting.
      sharedCounts.watch(LOCKED_KEY);
      sharedCounts.watch(`device-code-failures:${ALL}`);
      if (sharedCounts.count(LOCKED_KEY) > 0) return sharedCounts.secondsLeft();
    }
    return attempts.take(ip)?.retryAfter ?? null;
  }
  function failed(): void {
    const refusal = failures.take(ALL);
    if (!refusal) return;
    lockedUntilMs = nowMs() + refusal.retryAfter * 1000;
    sharedCounts?.add(LOCKED_KEY, 1);
  }

  const signedOut = (reply: FastifyReply) => sendPage(reply, 403, messagePage(base, 'Signed out', 'Your session ended. Open the link from your device again.'));
  const tooMany = (reply: FastifyReply, seconds: number) =>
    sendPage(reply.header('retry-after', String(seconds)), 429, messagePage(base, 'Too many attempts', `Too many codes were entered. Wait ${seconds} seconds, then try again.`));
  const entry = (reply: FastifyReply, status: number, session: SignedInSession, userCode: string, error?: string) =>
    sendPage(reply, status, deviceEntryPage({ base, csrf: csrfToken(session), userEmail: session.user.email ?? session.user.id, userCode, ...(error ? { error } : {}) }));
  const INVALID = 'That code is not valid: it may be mistyped, expired or already used. Check the code on your device.';

  return [
    {
      method: 'GET',
      url: userEndpointPaths.device,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const query = request.query as Record<string, string | undefined>;
        const userCode = typedCode(query['user_code']);
        const session = await sessions.signedIn(request);
        if (!session) {
          const returnTo = `${base}${userEndpointPaths.device}${userCode ? `?${new URLSearchParams({ user_code: userCode })}` : ''}`;
          return reply.code(302).header('location', `${base}${userEndpointPaths.login}?${new URLSearchParams({ return_to: returnTo })}`).send();
        }
        return entry(reply, 200, session, userCode);
      },
    },
    {
      method: 'POST',
      url: userEndpointPaths.device,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return signedOut(reply);
        const wait = throttled(request.ip);
        if (wait !== null) return tooMany(reply, wait);
        const userCode = typedCode(pageForm(request).get('user_code'));
        const found = await flow.lookUp(userCode, signedInUser(session), now());
        if (found.kind === 'invalid') {
          failed();
          return entry(reply, 400, session, userCode, INVALID);
        }
        return sendPage(reply, 200, deviceConfirmPage({ base, csrf: csrfToken(session), ...found.view }));
      },
    },
    {
      method: 'POST',
      url: userEndpointPaths.deviceDecision,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return signedOut(reply);
        const wait = throttled(request.ip);
        if (wait !== null) return tooMany(reply, wait);
        const form = pageForm(request);
        const outcome = await flow.decide(typedCode(form.get('user_code')), form.get('decision') === 'approve', signedInUser(session), request.ip, now(), GRANT_TYPE_DEVICE_CODE);
        switch (outcome.kind) {
          case 'invalid':
            failed();
            return entry(reply, 400, session, '', INVALID);
          case 'approved':
            return sendPage(reply, 200, messagePage(base, 'Device connected', `${outcome.clientName} is now authorized. You can return to your device.`, 'info'));
          case 'denied':
            return sendPage(reply, 200, messagePage(base, 'Request denied', `${outcome.clientName} was not authorized: ${outcome.reason}.`, 'info'));
        }
      },
    },
  ];
}
