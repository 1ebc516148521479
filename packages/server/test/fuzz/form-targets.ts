import fc from 'fast-check';
import { createUser, inputValue, signedInBrowser } from '../helpers/user-flow.ts';
import type { FuzzWorld } from './fuzz-world.ts';
import { type FuzzRequest, type FuzzTarget, httpTarget } from './fuzz-harness.ts';
import { hostileText } from './hostile-jwt.ts';

/**
 * The signed-in forms: the admin console (`/admin/…`) and `/account`, posted by a console admin with a valid session
 * and CSRF token, so the fields reach the handlers. Runs last: its inputs may disable or delete what other targets use.
 */

const FIELDS = ['name', 'description', 'scopes', 'audiences', 'redirect_uris', 'resource', 'email', 'roles', 'decision', 'reason', 'policy', 'risk', 'id', 'jti', 'grant_id', 'client_id', 'scope', 'public', 'token_endpoint_auth_method', 'access_token_ttl_seconds'];
const field = fc.oneof(hostileText, fc.string({ maxLength: 30 }), fc.constantFrom('calc', 'https://mcp.example.com/mcp', 'https://app.example.com/callback', 'approve', 'deny', 'auto', 'consent', 'approval', 'admin', '1', '-1', '1e999', 'on'));

/** A console admin's browser session: its cookie header and CSRF token. */
export async function consoleSession(world: FuzzWorld): Promise<{ cookie: string; csrf: string }> {
  const email = `fuzz-admin-${Date.now()}@example.com`;
  await createUser(world.server, email, { roles: ['admin'] });
  const browser = await signedInBrowser(world.server, email);
  const page = await (await browser.fetch(`${world.server.issuer}/account`)).text();
  return { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), csrf: inputValue(page, 'csrf') };
}

export function formTargets(session: () => { cookie: string; csrf: string }): FuzzTarget<any>[] {
  return [
    httpTarget('console-account-forms', 'page', (w) => {
      const ids = fc.oneof(fc.constantFrom(w.keyed.clientId, w.app.clientId, 'x', '%00', '..', '%ED%A0%80'), fc.string({ maxLength: 12 }).map(encodeURIComponent));
      const path = fc.oneof(
        fc.constantFrom('/admin/agents', '/admin/clients', '/admin/resources', '/admin/users', '/admin/audit/verify', '/account/agents/revoke', '/account/consents/revoke', '/account/grants/revoke'),
        fc.tuple(fc.constantFrom('/admin/agents/', '/admin/clients/', '/admin/resources/', '/admin/grants/', '/admin/tokens/', '/admin/approvals/', '/account/approvals/'), ids,
          fc.constantFrom('', '/disable', '/enable', '/revoke', '/decision', '/scopes', '/policies/calc', '/policies/%00')).map(([a, id, b]) => `${a}${id}${b}`),
      );
      return fc.tuple(path, fc.array(fc.tuple(fc.constantFrom(...FIELDS), field), { maxLength: 6 }), fc.nat(9)).map(([p, pairs, csrfCase]): FuzzRequest => {
        const { cookie, csrf } = session();
        const body = new URLSearchParams(pairs);
        if (csrfCase > 0) body.set('csrf', csrfCase === 1 ? `${csrf}x` : csrf);
        return { method: 'POST', path: p, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: body.toString() };
      });
    }),
  ];
}
