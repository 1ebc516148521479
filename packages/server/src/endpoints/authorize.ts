import type { FastifyReply, FastifyRequest } from 'fastify';
import { type BrowserSessions, csrfToken, type SignedInSession } from '../http/browser-session.ts';
import type { ServerContext } from '../http/context.ts';
import { userEndpointPaths } from '../http/context.ts';
import { isOidcScope, OIDC_SCOPES } from '../policy/oidc-scopes.ts';
import { generateSecret, hashSecret, newId } from '../tokens/secret.ts';
import { type ConsentScope, consentPage } from '../ui/consent-page.ts';
import { messagePage } from '../ui/layout.ts';
import { type AuthorizationRequest, parseAuthorizationRequest, type ParsedAuthorizationRequest, redirectWith } from './authorization-request.ts';
import { pageForm, rawQuery, sendPage } from './page-response.ts';
import type { RouteDefinition } from '../http/route.ts';

/**
 * The authorization endpoint (RFC 6749 §3.1, OAuth 2.1 §4.1) and its consent step, as named steps:
 * parse and validate the request → require a signed-in user (else the login page, which comes back here) →
 * use remembered consent, or show the consent page → on approval remember it (per user, client, agent, resource)
 * and issue a single-use code bound to the grant → redirect with `code`, `state` and `iss` (RFC 9207).
 */
export function authorizationEndpoints(ctx: ServerContext, sessions: BrowserSessions): RouteDefinition[] {
  const base = new URL(ctx.config.issuer).pathname.replace(/\/$/, '');
  const deps = { clients: ctx.store, resources: ctx.store };

  /** RFC 6749 §4.1.2.1 errors: redirected once the redirect URI is verified, shown otherwise; always audited. */
  async function refuse(request: FastifyRequest, reply: FastifyReply, parsed: Exclude<ParsedAuthorizationRequest, { ok: true }>, userId: string | null) {
    await ctx.audit.record({
      event: 'authorization.refused',
      actor: userId,
      subject: userId,
      clientId: parsed.clientId ?? null,
      ip: request.ip,
      detail: { error: parsed.redirect ? parsed.error : 'invalid_request', reason: parsed.description, redirected: parsed.redirect },
    });
    if (!parsed.redirect) return sendPage(reply, 400, messagePage(base, 'This request cannot be completed', `The application sent an invalid authorization request: ${parsed.description}.`));
    return reply
      .code(request.method === 'POST' ? 303 : 302)
      .header('location', redirectWith(parsed.redirectUri, { error: parsed.error, error_description: parsed.description, state: parsed.state, iss: ctx.config.issuer }))
      .send();
  }

  function redirectError(request: FastifyRequest, reply: FastifyReply, auth: AuthorizationRequest, error: string, description: string, userId: string | null) {
    return refuse(request, reply, { ok: false, redirect: true, clientId: auth.client.clientId, redirectUri: auth.redirectUri, state: auth.state, error, description }, userId);
  }

  /** Consent is keyed per resource; OpenID scopes live under the empty resource. */
  function scopesByResource(auth: AuthorizationRequest): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const oidc = auth.scopes.filter(isOidcScope);
    if (oidc.length) out.set('', oidc);
    for (const uri of auth.resources) {
      const defined = auth.registered.get(uri)!.scopes.map((s) => s.name);
      out.set(uri, auth.scopes.filter((s) => !isOidcScope(s) && defined.includes(s)));
    }
    return out;
  }

  async function consentRemembered(auth: AuthorizationRequest, userId: string): Promise<boolean> {
    for (const [resource, scopes] of scopesByResource(auth)) {
      const consent = await ctx.store.getConsent(userId, auth.client.clientId, auth.actor?.clientId ?? '', resource);
      if (!consent || !scopes.every((s) => consent.scopes.includes(s))) return false;
    }
    return true;
  }

  /** Creates the grant and its code (one transaction), then redirects back with `code`, `state` and `iss`. */
  async function issueCode(request: FastifyRequest, reply: FastifyReply, auth: AuthorizationRequest, session: SignedInSession, how: 'consent' | 'remembered') {
    const now = ctx.now();
    const { authorization, tokens } = ctx.config;
    const code = generateSecret();
    const grantId = newId('grt');
    const offline = auth.scopes.includes('offline_access');
    await ctx.store.createGrantWithCode(
      {
        id: grantId,
        userId: session.user.id,
        clientId: auth.client.clientId,
        actorId: auth.actor?.clientId ?? null,
        scopes: auth.scopes,
        resources: auth.resources,
        authTime: session.record.authTime ?? now,
        status: 'active',
        createdAt: now,
        // The grant outlives every token derived from it: the refresh family, or the longest access/ID token.
        expiresAt: now + authorization.codeTtlSeconds + (offline ? authorization.refreshTokenFamilyTtlSeconds : tokens.maxAccessTokenTtlSeconds),
        revokedAt: null,
      },
      { codeHash: hashSecret(code), grantId, redirectUri: auth.redirectUri, codeChallenge: auth.codeChallenge, nonce: auth.nonce ?? null, expiresAt: now + authorization.codeTtlSeconds, consumedAt: null },
    );
    await ctx.audit.record({
      event: 'authorization.code_issued',
      actor: session.user.id,
      subject: session.user.id,
      clientId: auth.client.clientId,
      ip: request.ip,
      detail: { grant_id: grantId, actor_id: auth.actor?.clientId, scope: auth.scopes.join(' '), resources: auth.resources, consent: how },
    });
    const location = redirectWith(auth.redirectUri, { code, state: auth.state, iss: ctx.config.issuer });
    return reply.code(request.method === 'POST' ? 303 : 302).header('location', location).send();
  }

  function consentScopes(auth: AuthorizationRequest): ConsentScope[] {
    return auth.scopes.map((name) => {
      if (isOidcScope(name)) return { name, description: OIDC_SCOPES[name]!.description, risk: OIDC_SCOPES[name]!.risk, resource: null };
      const uri = auth.resources.find((u) => auth.registered.get(u)!.scopes.some((s) => s.name === name))!;
      const scope = auth.registered.get(uri)!.scopes.find((s) => s.name === name)!;
      return { name, description: scope.description ?? name, risk: scope.risk, resource: uri };
    });
  }

  function showConsent(reply: FastifyReply, auth: AuthorizationRequest, session: SignedInSession, query: string) {
    return sendPage(
      reply,
      200,
      consentPage({
        base,
        csrf: csrfToken(session),
        userEmail: session.user.email ?? session.user.id,
        client: { id: auth.client.clientId, name: auth.client.name, redirectHost: new URL(auth.redirectUri).host || auth.redirectUri, isPublic: auth.client.tokenEndpointAuthMethod === 'none' },
        agent: auth.actor && { id: auth.actor.clientId, name: auth.actor.name, owner: auth.actor.owner, description: auth.actor.description },
        scopes: consentScopes(auth),
        resources: auth.resources,
        offlineAccess: auth.scopes.includes('offline_access'),
        request: query,
      }),
    );
  }

  return [
    {
      method: 'GET',
      url: userEndpointPaths.authorization,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const query = rawQuery(request);
        const parsed = await parseAuthorizationRequest(query, deps);
        const session = await sessions.signedIn(request);
        if (!parsed.ok) return refuse(request, reply, parsed, session?.user.id ?? null);
        const auth = parsed.request;

        if (!session || auth.prompt.has('login')) {
          if (auth.prompt.has('none')) return redirectError(request, reply, auth, 'login_required', 'the user is not signed in', null);
          // After login, come back without prompt=login, or the user would be asked again forever.
          const params = new URLSearchParams(query);
          const remaining = [...auth.prompt].filter((p) => p !== 'login');
          if (remaining.length) params.set('prompt', remaining.join(' '));
          else params.delete('prompt');
          if (session) await sessions.logout(request, reply);
          const returnTo = `${base}${userEndpointPaths.authorization}?${params}`;
          return reply.code(302).header('location', `${base}${userEndpointPaths.login}?${new URLSearchParams({ return_to: returnTo })}`).send();
        }
        if (!auth.prompt.has('consent') && (await consentRemembered(auth, session.user.id))) return issueCode(request, reply, auth, session, 'remembered');
        if (auth.prompt.has('none')) return redirectError(request, reply, auth, 'consent_required', 'the user has not consented', session.user.id);
        return showConsent(reply, auth, session, query);
      },
    },
    {
      // OIDC Core §3.1.2.1: the authorization endpoint takes POST too (form-encoded). It changes nothing, so it
      // carries no CSRF token: it only turns the form into the equivalent GET, where every check happens.
      method: 'POST',
      url: userEndpointPaths.authorization,
      access: 'public',
      errorFormat: 'problem',
      async handler(request, reply) {
        const query = new URLSearchParams(typeof request.body === 'string' ? request.body : '').toString();
        return reply.code(303).header('cache-control', 'no-store').header('location', `${base}${userEndpointPaths.authorization}?${query}`).send();
      },
    },
    {
      method: 'POST',
      url: userEndpointPaths.consent,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const form = pageForm(request);
        const session = await sessions.signedIn(request);
        if (!session) return sendPage(reply, 403, messagePage(base, 'Signed out', 'Your session ended before you answered. Start again from the application.'));
        const query = form.get('request') ?? '';
        const parsed = await parseAuthorizationRequest(query, deps);
        if (!parsed.ok) return refuse(request, reply, parsed, session.user.id);
        const auth = parsed.request;
        const detail = { actor_id: auth.actor?.clientId, scope: auth.scopes.join(' '), resources: auth.resources };

        if (form.get('decision') !== 'approve') {
          await ctx.audit.record({ event: 'consent.denied', actor: session.user.id, subject: session.user.id, clientId: auth.client.clientId, ip: request.ip, detail });
          return redirectError(request, reply, auth, 'access_denied', 'the user denied the request', session.user.id);
        }
        const remember = form.get('remember') === '1';
        if (remember) {
          const now = ctx.now();
          for (const [resource, scopes] of scopesByResource(auth)) {
            const key = [session.user.id, auth.client.clientId, auth.actor?.clientId ?? '', resource] as const;
            const existing = await ctx.store.getConsent(...key);
            const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])];
            await ctx.store.saveConsent({ userId: key[0], clientId: key[1], actorId: key[2], resource, scopes: merged, createdAt: existing?.createdAt ?? now, updatedAt: now });
          }
        }
        await ctx.audit.record({ event: 'consent.granted', actor: session.user.id, subject: session.user.id, clientId: auth.client.clientId, ip: request.ip, detail: { ...detail, remembered: remember } });
        return issueCode(request, reply, auth, session, 'consent');
      },
    },
  ];
}

