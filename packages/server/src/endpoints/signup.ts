import type { AuditLog } from '../audit/audit-log.ts';
import type { MandateConfig } from '../config.ts';
import type { BrowserSessions } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RouteDefinition } from '../http/route.ts';
import { ManagementError } from '../management/management-error.ts';
import { signUp } from '../management/self-signup.ts';
import type { UserStore } from '../management/users.ts';
import { signupPage } from '../ui/signup-page.ts';
import { floodCeiling } from './login.ts';
import { pageForm, seeOther, sendPage } from './page-response.ts';

export interface SignupDeps {
  issuer: string;
  store: UserStore;
  audit: Pick<AuditLog, 'record'>;
  config: MandateConfig;
  /** The per-address budget login attempts use: a signup writes a row, so a flood of them is refused the same way. */
  loginRate: RateLimiter;
  now(): number;
}

/**
 * `/signup`, registered only when `users.selfSignup` is on: creates the account (management/self-signup.ts), then sends
 * the person to sign in. A taken address gets the same answer as a free one, and nothing is sent anywhere.
 */
export function signupEndpoints(deps: SignupDeps, sessions: BrowserSessions): RouteDefinition[] {
  const base = new URL(deps.issuer).pathname.replace(/\/$/, '');
  return [
    {
      method: 'GET',
      url: '/signup',
      access: 'browser',
      errorFormat: 'problem',
      handler: async (request, reply) => sendPage(reply, 200, signupPage({ base, csrf: sessions.anonymousCsrf(request, reply) })),
    },
    {
      method: 'POST',
      url: '/signup',
      access: 'browser',
      anonymousForm: true,
      errorFormat: 'problem',
      async handler(request, reply) {
        const form = pageForm(request);
        const again = (status: number, error: string) =>
          sendPage(reply, status, signupPage({ base, csrf: sessions.anonymousCsrf(request, reply), email: form.get('email') ?? '', name: form.get('name') ?? '', error }));
        const limited = await floodCeiling(deps, request.ip, 'password');
        if (limited) {
          reply.header('retry-after', String(limited));
          return again(429, `Too many attempts from your network. Try again in ${limited} seconds.`);
        }
        try {
          await signUp(
            { email: form.get('email') ?? '', password: form.get('password') ?? '', ...(form.get('name')?.trim() ? { name: form.get('name') } : {}) },
            { store: deps.store, audit: deps.audit, config: deps.config, now: deps.now() },
          );
        } catch (err) {
          if (!(err instanceof ManagementError)) throw err;
          // A taken address answers exactly as a free one (below): the form must not tell strangers who has an account.
          if (err.kind !== 'conflict') return again(400, err.message);
        }
        // Nobody is signed in here, whether the account was just made or existed: the person signs in with the
        // password they chose (an existing account keeps its own, so a taken address gives its holder's account to no one).
        return seeOther(reply, `${base}${userEndpointPaths.login}?${new URLSearchParams({ notice: 'signed-up', return_to: `${base}${userEndpointPaths.account}` })}`);
      },
    },
  ];
}
