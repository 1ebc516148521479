import type { RevocationEvent } from '@mandate/protocol';
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
 * Every resource receives every event (decided so: an event names token and grant ids, never claims, and the
 * lineage does not record audiences; a resource ignores ids it never saw). The endpoint streams what this returns.
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

    async read(afterId: number): Promise<{ id: number; event: RevocationEvent }[]> {
      return (await deps.events.listRevocationEvents(afterId, PAGE)).map(({ id, event }) => ({ id, event }));
    },

    /** The in-process wake-up: `listener` runs after this process appended an event. */
    onAppended: (listener: () => void) => deps.events.onRevocationEvent(listener),
  };
}

export type RevocationEventsFlow = ReturnType<typeof revocationEventsFlow>;
