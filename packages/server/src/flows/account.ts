import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRecords, ConsentRecords, PasskeyRecord, PasskeyRecords, UserGrantRecords, UserIdentityRecord, UserRecords } from '../store/store.ts';
import type { ActiveGrant, AuthorizedApp } from '../ui/account-page.ts';
import type { ActingAgent } from '../ui/account-agents.ts';

export interface AccountDeps {
  clients: Pick<ClientRecords, 'getClient'>;
  consents: Pick<ConsentRecords, 'listConsents' | 'deleteConsent'>;
  grants: Pick<UserGrantRecords, 'getGrant' | 'listUserGrants' | 'revokeGrant'>;
  passkeys: Pick<PasskeyRecords, 'listPasskeys'>;
  identities: Pick<UserRecords, 'listIdentities'>;
  audit: Pick<AuditLog, 'record'>;
}

export interface AccountOverview {
  /** One entry per client and agent the user consented to, with its access per resource. */
  consents: AuthorizedApp[];
  /** Every grant still active, remembered consent or not (SR-18): each is a refresh-token family the user can end. */
  grants: ActiveGrant[];
  passkeys: PasskeyRecord[];
  identities: UserIdentityRecord[];
  /** Each agent that may act for the user (named in a consent or grant, or holding a CIBA grant), with what it may do. */
  agents: ActingAgent[];
}

/**
 * The signed-in user's own account: what they authorized (remembered consent, one row per client and agent), every
 * grant still active (remembered or not), their passkeys and linked providers; revoking one grant, or an
 * application's access. Revoking removes the remembered
 * consent for every resource of that client and agent and revokes every grant the user gave them, so their
 * refresh tokens and access tokens (via `gid`) stop working at once; the next authorization asks again.
 */
export function accountFlow(deps: AccountDeps) {
  /** The agent of a consent or grant: the one named as actor, or the client itself when it is an agent (CIBA). */
  async function agentOf(clientId: string, actorId: string | null): Promise<string | null> {
    if (actorId) return actorId;
    return (await deps.clients.getClient(clientId))?.kind === 'agent' ? clientId : null;
  }

  async function actingAgents(userId: string, now: number): Promise<ActingAgent[]> {
    const byAgent = new Map<string, ActingAgent>();
    const entry = async (agentId: string) => {
      let agent = byAgent.get(agentId);
      if (!agent) {
        const record = await deps.clients.getClient(agentId);
        agent = { id: agentId, name: record?.name ?? agentId, status: record?.status ?? 'deleted', via: [], access: [], grants: 0, since: Number.MAX_SAFE_INTEGER };
        byAgent.set(agentId, agent);
      }
      return agent;
    };
    const addAccess = (agent: ActingAgent, resource: string, scopes: readonly string[]) => {
      let line = agent.access.find((a) => a.resource === resource);
      if (!line) agent.access.push((line = { resource, scopes: [] }));
      for (const s of scopes) if (!line.scopes.includes(s)) line.scopes.push(s);
    };
    for (const consent of await deps.consents.listConsents(userId)) {
      const agentId = await agentOf(consent.clientId, consent.actorId || null);
      if (!agentId) continue;
      const agent = await entry(agentId);
      if (consent.clientId !== agentId && !agent.via.includes(consent.clientId)) agent.via.push(consent.clientId);
      addAccess(agent, consent.resource, consent.scopes);
      agent.since = Math.min(agent.since, consent.createdAt);
    }
    for (const grant of await deps.grants.listUserGrants(userId)) {
      if (grant.status !== 'active' || grant.expiresAt <= now) continue;
      const agentId = await agentOf(grant.clientId, grant.actorId);
      if (!agentId) continue;
      const agent = await entry(agentId);
      if (grant.clientId !== agentId && !agent.via.includes(grant.clientId)) agent.via.push(grant.clientId);
      for (const resource of grant.resources.length ? grant.resources : ['']) addAccess(agent, resource, grant.scopes);
      agent.grants++;
      agent.since = Math.min(agent.since, grant.createdAt);
    }
    for (const agent of byAgent.values()) agent.via = await Promise.all(agent.via.map(async (id) => (await deps.clients.getClient(id))?.name ?? id));
    return [...byAgent.values()];
  }

  return {
    async overview(userId: string, now: number): Promise<AccountOverview> {
      const names = new Map<string, string>();
      const nameOf = async (id: string) => {
        if (!names.has(id)) names.set(id, (await deps.clients.getClient(id))?.name ?? id);
        return names.get(id)!;
      };
      const byPair = new Map<string, AuthorizedApp>();
      for (const consent of await deps.consents.listConsents(userId)) {
        const key = `${consent.clientId}\u0000${consent.actorId}`;
        let entry = byPair.get(key);
        if (!entry) {
          entry = {
            clientId: consent.clientId,
            clientName: await nameOf(consent.clientId),
            actorId: consent.actorId,
            actorName: consent.actorId ? await nameOf(consent.actorId) : null,
            access: [],
            since: consent.createdAt,
          };
          byPair.set(key, entry);
        }
        entry.access.push({ resource: consent.resource, scopes: consent.scopes });
        entry.since = Math.min(entry.since, consent.createdAt);
      }
      const grants: ActiveGrant[] = [];
      for (const grant of await deps.grants.listUserGrants(userId)) {
        if (grant.status !== 'active' || grant.expiresAt <= now) continue;
        grants.push({
          id: grant.id,
          clientId: grant.clientId,
          clientName: await nameOf(grant.clientId),
          actorId: grant.actorId ?? '',
          actorName: grant.actorId ? await nameOf(grant.actorId) : null,
          resources: grant.resources,
          scopes: grant.scopes,
          since: grant.createdAt,
          until: grant.expiresAt,
        });
      }
      return {
        consents: [...byPair.values()],
        grants,
        passkeys: await deps.passkeys.listPasskeys(userId),
        identities: await deps.identities.listIdentities(userId),
        agents: await actingAgents(userId, now),
      };
    },

    /**
     * Ends one grant of the user's (and so its refresh tokens and every token carrying its `gid`); the remembered
     * consent, if any, stays. False when it is not theirs or not active.
     */
    async revokeGrant({ userId, grantId, ip, now }: { userId: string; grantId: string; ip: string; now: number }): Promise<boolean> {
      const grant = grantId ? await deps.grants.getGrant(grantId) : null;
      if (!grant || grant.userId !== userId || !(await deps.grants.revokeGrant(grant.id, now))) return false;
      await deps.audit.record({ event: 'grant.revoked', actor: userId, subject: userId, clientId: grant.clientId, ip, detail: { grant_id: grant.id, actor_id: grant.actorId ?? undefined, by: 'user' } });
      return true;
    },

    /**
     * Ends everything an agent may do for the user: every remembered consent and every grant in which it acts (as
     * the named actor, or as the client of a CIBA grant). Its tokens carrying those grants fail at their next use.
     */
    async revokeAgent({ userId, agentId, ip, now }: { userId: string; agentId: string; ip: string; now: number }): Promise<boolean> {
      if (!agentId) return false;
      let deleted = 0;
      for (const consent of await deps.consents.listConsents(userId)) {
        if ((consent.actorId === agentId || consent.clientId === agentId) && (await deps.consents.deleteConsent(userId, consent.clientId, consent.actorId, consent.resource))) deleted++;
      }
      const revoked: string[] = [];
      for (const grant of await deps.grants.listUserGrants(userId)) {
        if ((grant.actorId === agentId || grant.clientId === agentId) && (await deps.grants.revokeGrant(grant.id, now))) revoked.push(grant.id);
      }
      if (deleted === 0 && revoked.length === 0) return false;
      await deps.audit.record({ event: 'consent.revoked', actor: userId, subject: userId, clientId: agentId, ip, detail: { agent_id: agentId, consents_deleted: deleted, grants_revoked: revoked, by: 'user' } });
      return true;
    },

    /** `actorId` is '' for the client acting alone. */
    async revokeAppAccess({ userId, clientId, actorId, ip, now }: { userId: string; clientId: string; actorId: string; ip: string; now: number }): Promise<void> {
      let deleted = 0;
      for (const consent of await deps.consents.listConsents(userId)) {
        if (consent.clientId === clientId && consent.actorId === actorId && (await deps.consents.deleteConsent(userId, clientId, actorId, consent.resource))) deleted++;
      }
      const revoked: string[] = [];
      for (const grant of await deps.grants.listUserGrants(userId)) {
        if (grant.clientId === clientId && (grant.actorId ?? '') === actorId && (await deps.grants.revokeGrant(grant.id, now))) revoked.push(grant.id);
      }
      await deps.audit.record({
        event: 'consent.revoked',
        actor: userId,
        subject: userId,
        clientId,
        ip,
        detail: { actor_id: actorId || undefined, consents_deleted: deleted, grants_revoked: revoked },
      });
    },
  };
}

export type AccountFlow = ReturnType<typeof accountFlow>;
