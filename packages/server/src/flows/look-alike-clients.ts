import { type LookAlike, lookAlike } from '../policy/look-alike-names.ts';
import type { ClientRegistrationRecords } from '../store/client-registration.ts';
import type { ResourceRecords } from '../store/store.ts';

export interface LookAlikeDeps {
  registrations: Pick<ClientRegistrationRecords, 'listVouchedClientNames'>;
  resources: Pick<ResourceRecords, 'listResources'>;
}

/**
 * What a self-registered client's name imitates among the names the operator registered (the applications and agents
 * they created, the resources), or its mixed scripts; null when neither (policy/look-alike-names.ts). Other
 * self-registered clients are not compared: every installation of an MCP host registers itself under the same name.
 */
export async function selfRegisteredLookAlike(name: string, deps: LookAlikeDeps): Promise<LookAlike | null> {
  const [clients, resources] = await Promise.all([deps.registrations.listVouchedClientNames(), deps.resources.listResources()]);
  return lookAlike(name, [...clients.map((known) => ({ name: known, kind: 'client' as const })), ...resources.map((resource) => ({ name: resource.name, kind: 'resource' as const }))]);
}
