import type { ResourceRecord, ResourceRecords } from '../store/store.ts';

/**
 * The registered resources a target policy reads (`TargetPolicy.lookUp`), each looked up once, before the policy
 * decides: the facts of `decideTargets`.
 */
export async function lookUpResources(uris: readonly string[], resources: Pick<ResourceRecords, 'getResourceByUri'>): Promise<Map<string, ResourceRecord>> {
  const registered = new Map<string, ResourceRecord>();
  for (const uri of uris) {
    const resource = await resources.getResourceByUri(uri);
    if (resource) registered.set(uri, resource);
  }
  return registered;
}
