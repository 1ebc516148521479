/** Space-separated or array parameters (scopes, resources, audiences) in one canonical form. */

/** Resource indicators as a sorted list, each an absolute URI without a fragment (RFC 8707 §2). */
export function resourceList(value: string | readonly string[] | undefined): string[] {
  const resources = normalizeList(value, 'resource');
  for (const resource of resources) {
    if (!URL.canParse(resource) || resource.includes('#')) throw new TypeError(`resource ${resource} must be an absolute URI without a fragment`);
  }
  return resources;
}

/** Scopes or resources as a sorted, de-duplicated list, so that equal requests share one cache entry. */
export function normalizeList(value: string | readonly string[] | undefined, name: string): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(items) || !items.every((s) => typeof s === 'string')) throw new TypeError(`${name} must be a string or an array of strings`);
  return [...new Set(items.filter((s) => s !== ''))].sort();
}
