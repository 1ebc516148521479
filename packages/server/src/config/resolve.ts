import { type ConfigOverrides, configSchema, type MandateConfig } from './schema.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base`, group by group; an undefined value leaves the option as it was. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(value) && isPlainObject(current) ? merge(current, value) : value;
  }
  return out;
}

/** The file each layer read by `configFromFile` came from, for error messages. */
export const fileSources = new WeakMap<object, string>();

/** The environment variable that set each path, for overrides that came from `configFromEnvironment`. */
export const environmentSources = new WeakMap<object, ReadonlyMap<string, string>>();

function valueAt(object: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((at, key) => (typeof at === 'object' && at !== null ? (at as Record<PropertyKey, unknown>)[key] : undefined), object);
}

/**
 * Parses the defaults with `overrides` applied in order (later ones win), once, and freezes the result. Throws a
 * ConfigError naming each invalid option's path and what it must be, and the environment variable it came from.
 */
export function resolveConfig(...overrides: ConfigOverrides[]): MandateConfig {
  const merged = overrides.reduce<Record<string, unknown>>((acc, o) => merge(acc, o as Record<string, unknown>), {});
  const parsed = configSchema.safeParse(merged);
  if (parsed.success) return deepFreeze(parsed.data);
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${path ? `${path}.` : ''}${key} is not a configuration option`).join('; ');
    const source = overrides.findLast((o) => valueAt(o, issue.path) !== undefined);
    // The variable that set this option, or the list or group it is part of (`http.trustProxy.0`).
    const variable = source && [...(environmentSources.get(source) ?? [])].find(([set]) => path === set || path.startsWith(`${set}.`))?.[1];
    const origin = variable ?? (source && fileSources.get(source));
    return `${path || 'the configuration'} ${issue.message}${origin ? ` (from ${origin})` : ''}`;
  });
  throw new ConfigError(problems.join('; '));
}

/** The configuration with nothing set. */
export const defaults: MandateConfig = resolveConfig();
