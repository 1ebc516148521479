import type { BrowserSessions } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import { loginPage } from '../ui/login-page.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { loginWithPassword, type PasswordLoginDeps } from '../users/password-login.ts';
import { pageForm, safeReturnTo, seeOther, sendPage } from './page-response.ts';
import type { RouteDefinition } from '../http/route.ts';
import type { RateLimiter } from '../http/rate-limit.ts';

export interface LoginEndpointDeps {
  issuer: string;
  /** The upstream providers the page offers. */
  upstreamProviders: readonly { id: string; name: string }[];
  passwordLogin: Omit<PasswordLoginDeps, 'now'>;
  audit: Pick<AuditLog, 'record'>;
  /** `users.loginAttemptsPerIpPerMinute`, shared with passkey logins. */
  loginRate: RateLimiter;
  now(): number;
}

/** After `/signup`, whether the address was free or not (the same words either way). */
const SIGNED_UP = 'Sign-up received. Sign in with your email and the password you chose. If the address already had an account, that account is unchanged: use its own password.';

/** The login page (password, passkey, upstream providers) and logout; password login is `users/password-login.ts`. */
export function loginEndpoints(deps: LoginEndpointDeps, sessions: BrowserSessions): RouteDefinition[] {
  const base = new URL(deps.issuer).pathname.replace(/\/$/, '');
  const providers = deps.upstreamProviders.map((p) => ({ id: p.id, name: p.name }));
  const signupUrl = deps.passwordLogin.config.users.selfSignup ? `${base}/signup` : undefined;

  return [
    {
      method: 'GET',
      url: userEndpointPaths.login,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        // Writes nothing (SR-13): the form's CSRF token is bound to a cookie, not to a stored session.
        const query = request.query as Record<string, string | undefined>;
        const returnTo = safeReturnTo(query['return_to'], base);
        const error = query['error'] === 'upstream' ? 'Signing in with that provider did not work. Try again or use another method.' : undefined;
        const notice = query['notice'] === 'signed-up' ? SIGNED_UP : undefined;
        return sendPage(reply, 200, loginPage({ base, csrf: sessions.anonymousCsrf(request, reply), returnTo, providers, error, notice, signupUrl }));
      },
    },
    {
      method: 'POST',
      url: userEndpointPaths.login,
      access: 'browser',
      anonymousForm: true,
      errorFormat: 'problem',
      async handler(request, reply) {
        const form = pageForm(request);
        const email = form.get('email') ?? '';
        const returnTo = safeReturnTo(form.get('return_to'), base);
        const limited = await floodCeiling(deps, request.ip, 'password');
        if (limited) {
          reply.header('retry-after', String(limited));
          const error = `Too many sign-in attempts from your network. Try again in ${limited} seconds.`;
          return sendPage(reply, 429, loginPage({ base, csrf: sessions.anonymousCsrf(request, reply), returnTo, providers, error, email }));
        }
        const result = await loginWithPassword(email, form.get('password') ?? '', request.ip, { ...deps.passwordLogin, now: deps.now() });
        if (!result.ok) {
          const error =
            result.reason === 'throttled'
              ? `Too many failed attempts. Try again in ${result.retryAfterSeconds} seconds.`
              : 'The email or password is not correct.';
          if (result.retryAfterSeconds) reply.header('retry-after', String(result.retryAfterSeconds));
          return sendPage(reply, result.reason === 'throttled' ? 429 : 401, loginPage({ base, csrf: sessions.anonymousCsrf(request, reply), returnTo, providers, error, email }));
        }
        await sessions.login(request, reply, result.user.id, ['pwd']);
        return seeOther(reply, returnTo);
      },
    },
    {
      method: 'POST',
      url: userEndpointPaths.logout,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const userId = await sessions.logout(request, reply);
        if (userId) await deps.audit.record({ event: 'logout', actor: userId, subject: userId, ip: request.ip });
        return seeOther(reply, `${base}${userEndpointPaths.login}`);
      },
    },
  ];
}

/**
 * The per-address ceiling on login attempts (a flood, not a guess: the throttle handles those). Returns the seconds
 * to wait, or 0; the first refusal since the address's budget ran out is audited, the rest are not.
 */
export async function floodCeiling(deps: Pick<LoginEndpointDeps, 'loginRate' | 'audit'>, ip: string, method: 'password' | 'passkey'): Promise<number> {
  const refused = deps.loginRate.take(ip);
  if (!refused) return 0;
  if (refused.first) await deps.audit.record({ event: 'login.rate_limited', ip, detail: { method, retry_after: refused.retryAfter } });
  return refused.retryAfter;
}
