import { type RevocationEvent, revocationEventConcerns } from '@mandate/protocol';
import { authenticateResource, presentedResourceKey } from '../oauth/resource-authentication.ts';
import type { ResourceRecords, RevocationEventRecords } from '../store/store.ts';
import { bearerRefused } from './introspection.ts';

export interface RevocationEventsDeps {
  resources: Pick<ResourceRecords, 'getResourceByApiKeyId'>;
  events: RevocationEventRecords;
}

/** At most this many events per read of the log; a subscriber far behind catches up in several reads. */
const PAGE = 500;

/**
 * Revocation events for resource servers (issue 11 item 3): a registered resource, authenticated with its API key
 * as for introspection, reads the store-backed event log from where it left off (`Last-Event-ID`) or from now.
 * A resource receives only the events about tokens meant for it (`aud`: the audiences of every token an event
 * revokes, from the token and its lineage, or a grant's resources), so it never learns of another resource's
 * tokens; a user's cutoff names the resources of their grants; an event that cannot say (a client's, agent's or
 * resource server's cutoff, a token recorded before lineage had audiences) goes to all.
 * The endpoint streams what this returns.
 */
export function revocationEventsFlow(deps: RevocationEventsDeps) {
  return {
    async authenticateResource(authorization: string | undefined, now: number): Promise<{ uri: string }> {
      const key = presentedResourceKey(authorization);
      const resource = key && (await authenticateResource(key, deps, now));
      if (!resource) throw bearerRefused();
      return { uri: resource.uri };
    },

    /** Where a stream starts: after the given Last-Event-ID (digits), else after the newest event now. */
    async startAfter(lastEventId: string | undefined): Promise<number> {
      if (lastEventId !== undefined && /^\d{1,15}$/.test(lastEventId.trim())) return Number(lastEventId.trim());
      return deps.events.lastRevocationEventId();
    },

    /** The events after `afterId` for the resource `uri`, and where the next read starts (past those skipped too). */
    async read(afterId: number, uri: string): Promise<{ events: { id: number; event: RevocationEvent }[]; cursor: number }> {
      const page = await deps.events.listRevocationEvents(afterId, PAGE);
      return {
        events: page.filter(({ event }) => revocationEventConcerns(event, uri)).map(({ id, event }) => ({ id, event })),
        cursor: page.at(-1)?.id ?? afterId,
      };
    },

    /** The in-process wake-up: `listener` runs after this process appended an event. */
    onAppended: (listener: () => void) => deps.events.onRevocationEvent(listener),
  };
}

export type RevocationEventsFlow = ReturnType<typeof revocationEventsFlow>;
