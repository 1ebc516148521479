import type { McpToolAuthorizationDetail } from '@mandate/protocol';
import type { AuditLog } from '../audit/audit-log.ts';
import type { RefusalAudit } from '../audit/refusal-audit.ts';
import type { MandateConfig } from '../config.ts';
import { decideScopes, highestRisk, type ScopeDecision } from '../policy/scope-policy.ts';
import { type ApprovalGateDeps, approvalRequestKey, askApprovers } from '../policy/approval-gate.ts';
import type {
  ApprovalRequestRecords,
  ClientRecord,
  ClientRecords,
  ConsentRecords,
  PendingAuthorizationRecord,
  PendingAuthorizationRecords,
  ResourceRecord,
  ResourceRecords,
  ToolPolicyRecords,
  UserGrantRecords,
  UserRecords,
} from '../store/store.ts';
import { generateSecret, hashSecret, newId } from '../tokens/secret.ts';
import {
  ACTOR_REFUSED,
  approvableAction,
  CLIENT_REFUSED,
  clientRefusal,
  decideAuthorizationTargets,
  isActiveAgent,
  parseAuthorizationRequest,
  type ParsedAuthorizationRequest,
  queryAfterLogin,
  redirectWith,
} from './authorization-request.ts';
import { type ConsentView, consentView, type ConsentViewDeps } from './consent-view.ts';
import { consentRemembered, grantedBefore, scopesByResource, withGrantedBefore } from './granted-before.ts';
import type { PushedAuthorizationFlow } from './pushed-authorization.ts';

export interface AuthorizeDeps extends ConsentViewDeps {
  clients: Pick<ClientRecords, 'getClient'>;
  resources: Pick<ResourceRecords, 'listResources'> & Pick<ToolPolicyRecords, 'getToolPolicy'>;
  consents: Pick<ConsentRecords, 'getConsent' | 'saveConsent'>;
  grants: Pick<UserGrantRecords, 'createGrantWithCode' | 'listRecentGrants'>;
  /** The signed-in user (their grants for step-up; their roles, read only when a scope's policy requires one). */
  users: Pick<UserRecords, 'getUser'>;
  pending: PendingAuthorizationRecords;
  /** The approval queue, for scopes whose policy also asks an approver (issue 12 item 2). */
  approvals: ApprovalGateDeps['approvals'] & Pick<ApprovalRequestRecords, 'getApprovalRequest'>;
  audit: Pick<AuditLog, 'record'>;
  /** Refused requests arrive by GET from anyone: counted, not written one row each (SR-13, SR-20). */
  refusals: Pick<RefusalAudit, 'record'>;
  issuer: string;
  lifetimes: Pick<MandateConfig['authorization'], 'codeTtlSeconds' | 'refreshTokenFamilyTtlSeconds'> & Pick<MandateConfig['tokens'], 'maxAccessTokenTtlSeconds'>;
  /** RFC 9126: requests pushed before (`request_uri`), taken once each. */
  pushed: Pick<PushedAuthorizationFlow, 'resolve' | 'afterLogin'>;
  /** Every request must be pushed first (RFC 9126 §5, the FAPI 2.0 mode); a client may also be required to alone. */
  parRequired: boolean;
}

/** The browser's signed-in user, as the endpoint found them in the session. */
export interface SignedInUser {
  id: string;
  email: string | null;
  authTime: number | null;
  /** How they authenticated (RFC 8176: `pwd`, `hwk` + `user`, `fed`), carried into the grant and its ID tokens. */
  amr: readonly string[];
  /** The browser session's id hash: a pending request is bound to it. */
  sessionHash: string;
}

export type { ConsentView } from './consent-view.ts';

/** What the endpoint should do next. Redirects go back to the client (a code, or an RFC 6749 §4.1.2.1 error). */
export type AuthorizeOutcome =
  | { kind: 'redirect'; location: string }
  /** An error shown to the user, never redirected: the client or its redirect URI is not verified, or the consent request is gone. */
  | { kind: 'shown'; problem: 'invalid_request' | 'consent_gone'; description: string }
  /**
   * Sign in, then come back to the authorization endpoint with `query`. `reauthenticate`: someone is signed in but
   * must authenticate again (`prompt=login`, or `max_age` passed); their session stays until the new login succeeds.
   */
  | { kind: 'login'; query: string; reauthenticate: boolean }
  | { kind: 'consent'; requestId: string; view: ConsentView }
  /**
   * The user consented but a scope policy also asks an approver: the request is kept (under a new id, until the
   * approval request expires) and the page waits; coming back with both ids (`resume`) continues once decided.
   */
  | { kind: 'awaiting_approval'; requestId: string; approvalId: string; clientName: string; why: string; expiresAt: number };

export interface AuthorizeInput {
  /** The raw query string of the authorization request (RFC 6749 §4.1.1). */
  query: string;
  user: SignedInUser | null;
  ip: string;
  now: number;
}

export interface ResumeInput {
  /** The ids the waiting page carried. */
  requestId: string;
  approvalId: string;
  user: SignedInUser;
  ip: string;
  now: number;
}

export interface ConsentInput {
  /** The id the consent page carried. */
  requestId: string;
  approve: boolean;
  remember: boolean;
  user: SignedInUser;
  ip: string;
  now: number;
}

/** How long a consent page may be answered. */
export const CONSENT_TTL_SECONDS = 600;

/** A validated request, as kept while the user decides and as re-checked when they do. */
interface Pending {
  client: ClientRecord;
  actor: ClientRecord | null;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  nonce: string | undefined;
  dpopJkt: string | undefined;
  scopes: string[];
  resources: string[];
  /** RFC 9396: the one `mcp_tool` call asked for (pushed requests only). */
  authorizationDetails: McpToolAuthorizationDetail[] | undefined;
}

/**
 * The authorization endpoint (RFC 6749 §3.1, OAuth 2.1 §4.1) and its consent step, as named steps:
 * parse and validate the request → require a signed-in user (else the login page, which comes back here) →
 * use remembered consent, or keep the request server-side under a random id (bound to the browser session,
 * single use, expiring) and show the consent page → on the user's answer, take the pending request, check the
 * client and agent are still allowed what the page showed, remember the consent (per user, client, agent,
 * resource) and issue a single-use code bound to the grant → redirect with `code`, `state` and `iss` (RFC 9207).
 */
export function authorizationFlow(deps: AuthorizeDeps) {
  const back = (pending: Pick<Pending, 'redirectUri' | 'state'>, params: Record<string, string | undefined>): AuthorizeOutcome => ({
    kind: 'redirect',
    location: redirectWith(pending.redirectUri, { ...params, state: pending.state, iss: deps.issuer }),
  });

  /**
   * RFC 6749 §4.1.2.1 errors: redirected once the redirect URI is verified, shown otherwise; always audited, the
   * first of each client and address in a minute with its own row, the rest counted.
   */
  async function refuse(parsed: Exclude<ParsedAuthorizationRequest, { ok: true }>, userId: string | null, ip: string): Promise<AuthorizeOutcome> {
    await deps.refusals.record({
      event: 'authorization.refused',
      actor: userId,
      subject: userId,
      clientId: parsed.clientId ?? null,
      ip,
      detail: { error: parsed.redirect ? parsed.error : 'invalid_request', reason: parsed.description, redirected: parsed.redirect },
    });
    if (!parsed.redirect) return { kind: 'shown', problem: 'invalid_request', description: parsed.description };
    return back(parsed, { error: parsed.error, error_description: parsed.description });
  }

  const redirectError = (auth: Pending, error: string, description: string, userId: string | null, ip: string) =>
    refuse({ ok: false, redirect: true, clientId: auth.client.clientId, redirectUri: auth.redirectUri, state: auth.state, error, description }, userId, ip);

  /** The scope policies over a request (policy/scope-policy.ts): refused, or which scopes need the user's consent. */
  function decidePolicies(auth: Pick<Pending, 'client' | 'actor' | 'scopes' | 'resources'>, registered: ReadonlyMap<string, ResourceRecord>, userId: string, now: number): Promise<ScopeDecision> {
    return decideScopes({
      flow: 'authorization_request',
      scopes: auth.scopes,
      resources: auth.resources,
      registered,
      parties: auth.actor ? [auth.client.clientId, auth.actor.clientId] : [auth.client.clientId],
      userRoles: async () => (await deps.users.getUser(userId))?.roles ?? [],
      chainDepth: auth.actor ? 1 : 0,
      now,
    });
  }

  /** Creates the grant and its code (one transaction), then redirects back with `code`, `state` and `iss`. */
  async function issueCode(auth: Pending, user: SignedInUser, how: 'consent' | 'remembered' | 'policy' | 'approval', ip: string, now: number): Promise<AuthorizeOutcome> {
    const { lifetimes } = deps;
    const code = generateSecret();
    const grantId = newId('grt');
    const offline = auth.scopes.includes('offline_access');
    await deps.grants.createGrantWithCode(
      {
        id: grantId,
        userId: user.id,
        clientId: auth.client.clientId,
        actorId: auth.actor?.clientId ?? null,
        scopes: auth.scopes,
        resources: auth.resources,
        authTime: user.authTime ?? now,
        amr: [...user.amr],
        status: 'active',
        createdAt: now,
        // The grant outlives every token derived from it: the refresh family, or the longest access/ID token.
        expiresAt: now + lifetimes.codeTtlSeconds + (offline ? lifetimes.refreshTokenFamilyTtlSeconds : lifetimes.maxAccessTokenTtlSeconds),
        revokedAt: null,
      },
      {
        codeHash: hashSecret(code),
        grantId,
        redirectUri: auth.redirectUri,
        codeChallenge: auth.codeChallenge,
        nonce: auth.nonce ?? null,
        expiresAt: now + lifetimes.codeTtlSeconds,
        consumedAt: null,
        dpopJkt: auth.dpopJkt ?? null,
        authorizationDetails: auth.authorizationDetails ?? null,
      },
    );
    await deps.audit.record({
      event: 'authorization.code_issued',
      actor: user.id,
      subject: user.id,
      clientId: auth.client.clientId,
      ip,
      detail: { grant_id: grantId, actor_id: auth.actor?.clientId, scope: auth.scopes.join(' '), resources: auth.resources, consent: how, ...(auth.authorizationDetails ? { authorization_details: auth.authorizationDetails } : {}) },
    });
    return back(auth, { code });
  }

  /** Keeps the validated request until the user answers; the page carries only the returned id. */
  async function keepPending(auth: Pending, user: SignedInUser, now: number, expiresAt = now + CONSENT_TTL_SECONDS): Promise<string> {
    const requestId = generateSecret();
    await deps.pending.createPendingAuthorization({
      idHash: hashSecret(requestId),
      sessionHash: user.sessionHash,
      clientId: auth.client.clientId,
      actorId: auth.actor?.clientId ?? null,
      redirectUri: auth.redirectUri,
      state: auth.state ?? null,
      codeChallenge: auth.codeChallenge,
      nonce: auth.nonce ?? null,
      dpopJkt: auth.dpopJkt ?? null,
      authorizationDetails: auth.authorizationDetails ?? null,
      scopes: auth.scopes,
      resources: auth.resources,
      createdAt: now,
      expiresAt,
    });
    return requestId;
  }

  /**
   * A consented request a scope policy also sends to approvers: the code when an approver approved this exact
   * request (the approval is then used up), else the request kept while its approval request waits.
   */
  async function awaitApprovers(auth: Pending, registered: ReadonlyMap<string, ResourceRecord>, user: SignedInUser, why: string, ip: string, now: number): Promise<AuthorizeOutcome> {
    const chain = auth.actor ? [auth.client.clientId, auth.actor.clientId] : [auth.client.clientId];
    const ask = {
      clientId: auth.client.clientId,
      chain,
      userId: user.id,
      scopes: auth.scopes,
      resources: auth.resources,
      justification: null,
      risk: highestRisk(auth.scopes, auth.resources, registered),
      why,
      ...(auth.authorizationDetails ? { authorizationDetails: auth.authorizationDetails } : {}),
    };
    const gate = await askApprovers(ask, deps, now);
    if (gate.state === 'approved') return issueCode(auth, user, 'approval', ip, now);
    if (gate.created) {
      await deps.audit.record({ event: 'approval.requested', actor: user.id, subject: user.id, clientId: auth.client.clientId, ip, detail: { approval_request: gate.approvalId, scope: auth.scopes.join(' '), resources: auth.resources, risk: ask.risk, why } });
    }
    const requestId = await keepPending(auth, user, now, gate.expiresAt);
    return { kind: 'awaiting_approval', requestId, approvalId: gate.approvalId, clientName: auth.client.name, why, expiresAt: gate.expiresAt };
  }

  /**
   * The pending request with today's client and agent, when they may still have what the page showed (a client
   * disabled, or an allowance narrowed, while the user read the page refuses the request as a fresh one would).
   */
  async function recheck(
    record: PendingAuthorizationRecord,
    userId: string,
    ip: string,
    now: number,
  ): Promise<{ ok: true; auth: Pending; registered: ReadonlyMap<string, ResourceRecord>; approval: string | null } | { ok: false; outcome: AuthorizeOutcome }> {
    const client = await deps.clients.getClient(record.clientId);
    const unusable = clientRefusal(client);
    if (unusable !== null || !client) return { ok: false, outcome: await refuse({ ok: false, redirect: false, clientId: record.clientId, description: unusable ?? CLIENT_REFUSED }, userId, ip) };
    const actor = record.actorId === null ? null : await deps.clients.getClient(record.actorId);
    const auth: Pending = {
      ...record,
      state: record.state ?? undefined,
      nonce: record.nonce ?? undefined,
      dpopJkt: record.dpopJkt ?? undefined,
      authorizationDetails: record.authorizationDetails ?? undefined,
      client,
      actor,
    };
    if (record.actorId !== null && !isActiveAgent(actor)) return { ok: false, outcome: await redirectError(auth, 'invalid_request', ACTOR_REFUSED, userId, ip) };
    const registered = new Map((await deps.resources.listResources()).map((r) => [r.uri, r]));
    const decision = decideAuthorizationTargets(client, actor, record, registered);
    if (!decision.ok) return { ok: false, outcome: await redirectError(auth, decision.error, decision.description, userId, ip) };
    // A tool unmarked for per-action approvals while the user read the page is refused as a fresh request would be.
    const action = auth.authorizationDetails && (await approvableAction(auth.authorizationDetails[0]!, decision.resources, registered, deps));
    if (action && !action.ok) return { ok: false, outcome: await redirectError(auth, 'invalid_authorization_details', action.description, userId, ip) };
    // A policy changed while the user read the page decides as it would for a fresh request.
    const policies = await decidePolicies({ client, actor, scopes: decision.scopes, resources: decision.resources }, registered, userId, now);
    if (!policies.ok && policies.reason === 'denied') return { ok: false, outcome: await redirectError(auth, 'access_denied', policies.description, userId, ip) };
    return { ok: true, auth: { ...auth, scopes: decision.scopes, resources: decision.resources }, registered, approval: policies.ok ? null : policies.description };
  }

  return {
    async authorize({ query: sent, user, ip, now }: AuthorizeInput): Promise<AuthorizeOutcome> {
      // RFC 9126 §4: with a request_uri, the pushed parameters are the request (taken now: each is used once).
      const resolved = await deps.pushed.resolve(sent, now);
      if (!resolved.ok) return refuse({ ok: false, redirect: false, clientId: resolved.clientId, description: resolved.description }, user?.id ?? null, ip);
      const { query, pushedBy } = resolved;
      const parsed = await parseAuthorizationRequest(query, deps, { pushed: pushedBy !== null });
      if (!parsed.ok) return refuse(parsed, user?.id ?? null, ip);
      const requested = parsed.request;

      // OIDC Core §3.1.2.1: prompt=login, or a max_age the last authentication is older than, asks for a new one
      // (max_age=0 is prompt=login, even within the second of the last login).
      const { maxAge } = requested;
      const stale = user !== null && (requested.prompt.has('login') || maxAge === 0 || (maxAge !== undefined && (user.authTime === null || now - user.authTime > maxAge)));
      if (!user || stale) {
        if (requested.prompt.has('none')) return redirectError(requested, 'login_required', user ? 'the user must authenticate again (max_age)' : 'the user is not signed in', user?.id ?? null, ip);
        const next = queryAfterLogin(query, requested.prompt);
        return { kind: 'login', query: pushedBy ? await deps.pushed.afterLogin(pushedBy, next, CONSENT_TTL_SECONDS) : next, reauthenticate: stale };
      }
      // Step-up keeps what was granted: the new grant holds the union, and the page asks only for what is new. An
      // action (RFC 9396) is asked for alone, and always of the user: no remembered consent stands for a tool call.
      const action = requested.authorizationDetails !== undefined;
      const before = action ? [] : await grantedBefore(deps, requested, user.id, now);
      const auth = withGrantedBefore(requested, before);
      // Scope policies: `deny`, a missing role or an unmet condition refuses; `auto` scopes need no consent.
      const policies = await decidePolicies(auth, auth.registered, user.id, now);
      if (!policies.ok && policies.reason === 'denied') return redirectError(auth, 'access_denied', policies.description, user.id, ip);
      // `admin_approval`: the user decides first (the page says an approver decides next), then approvers.
      const approval = policies.ok ? null : policies.description;
      const consentFree = policies.needConsent.length === 0;
      const remembered = !action && !auth.prompt.has('consent') && (consentFree || (await consentRemembered(deps, auth, policies.needConsent, user.id)));
      // RFC 8252 §8.6: a public client's identity is not assured (anyone may claim its client id and a loopback
      // port), so remembered consent (or none needed) never yields its code silently: the user confirms on the page.
      const publicClient = auth.client.tokenEndpointAuthMethod === 'none';
      if (remembered && !publicClient) return approval ? awaitApprovers(auth, auth.registered, user, approval, ip, now) : issueCode(auth, user, consentFree ? 'policy' : 'remembered', ip, now);
      if (auth.prompt.has('none')) {
        return remembered
          ? redirectError(auth, 'interaction_required', 'a public client needs the user to confirm each authorization (RFC 8252 §8.6)', user.id, ip)
          : redirectError(auth, 'consent_required', 'the user has not consented', user.id, ip);
      }
      return { kind: 'consent', requestId: await keepPending(auth, user, now), view: await consentView(deps, auth, user.email ?? user.id, remembered, before, approval) };
    },

    async consent({ requestId, approve, remember, user, ip, now }: ConsentInput): Promise<AuthorizeOutcome> {
      const record = await deps.pending.takePendingAuthorization(hashSecret(requestId), user.sessionHash, now);
      if (!record) {
        const description = 'the consent request is unknown, expired, already answered, or belongs to another session';
        await deps.audit.record({ event: 'authorization.refused', actor: user.id, subject: user.id, ip, detail: { error: 'invalid_request', reason: description, redirected: false } });
        return { kind: 'shown', problem: 'consent_gone', description };
      }
      const checked = await recheck(record, user.id, ip, now);
      if (!checked.ok) return checked.outcome;
      const { auth, registered, approval } = checked;
      const detail = { actor_id: auth.actor?.clientId, scope: auth.scopes.join(' '), resources: auth.resources };

      if (!approve) {
        await deps.audit.record({ event: 'consent.denied', actor: user.id, subject: user.id, clientId: auth.client.clientId, ip, detail });
        return redirectError(auth, 'access_denied', 'the user denied the request', user.id, ip);
      }
      // A tool call's approval is for that call: it is never remembered as consent to the scopes.
      if (remember && !auth.authorizationDetails) {
        for (const [resource, scopes] of scopesByResource(auth, registered)) {
          const key = [user.id, auth.client.clientId, auth.actor?.clientId ?? '', resource] as const;
          const existing = await deps.consents.getConsent(...key);
          const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])];
          await deps.consents.saveConsent({ userId: key[0], clientId: key[1], actorId: key[2], resource, scopes: merged, createdAt: existing?.createdAt ?? now, updatedAt: now });
        }
      }
      await deps.audit.record({ event: 'consent.granted', actor: user.id, subject: user.id, clientId: auth.client.clientId, ip, detail: { ...detail, remembered: remember } });
      return approval ? awaitApprovers(auth, registered, user, approval, ip, now) : issueCode(auth, user, 'consent', ip, now);
    },

    /**
     * The waiting page's "check again": the kept request (taken, so each check gets a new id) and its approval
     * request, which must be this exact request's. Approved: the code; denied or expired: `access_denied` with the
     * reason; still pending: wait again.
     */
    async resume({ requestId, approvalId, user, ip, now }: ResumeInput): Promise<AuthorizeOutcome> {
      const record = await deps.pending.takePendingAuthorization(hashSecret(requestId), user.sessionHash, now);
      if (!record) return { kind: 'shown', problem: 'consent_gone', description: 'the request is unknown, expired, or belongs to another session' };
      const checked = await recheck(record, user.id, ip, now);
      if (!checked.ok) return checked.outcome;
      const { auth, registered, approval } = checked;
      if (approval === null) return issueCode(auth, user, 'consent', ip, now);
      const asked = await deps.approvals.getApprovalRequest(approvalId);
      if (!asked || asked.clientId !== auth.client.clientId || asked.requestKey !== approvalRequestKey({ userId: user.id, resources: auth.resources, scopes: auth.scopes, authorizationDetails: auth.authorizationDetails })) {
        return redirectError(auth, 'access_denied', 'the approval request does not belong to this authorization request', user.id, ip);
      }
      if (asked.status === 'denied') return redirectError(auth, 'access_denied', `an approver denied the request${asked.reason ? `: ${asked.reason}` : ''}`, user.id, ip);
      if (asked.status === 'expired' || (asked.status === 'pending' && asked.expiresAt <= now)) return redirectError(auth, 'access_denied', 'the approval request expired before an approver decided', user.id, ip);
      return awaitApprovers(auth, registered, user, approval, ip, now);
    },
  };
}

export type AuthorizationFlow = ReturnType<typeof authorizationFlow>;
