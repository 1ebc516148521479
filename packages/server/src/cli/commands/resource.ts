import { createResource, deleteResource, getResource, listResources, type ResourceView, rotateResourceKey } from '../../management/resources.ts';
import { getResourceDelegationPolicy, setResourceDelegationPolicy } from '../../management/delegation-policies.ts';
import { commandArgs, formatTime, scopeList, table, UsageError, withManagement } from '../cli-context.ts';

const wholeNumber = (flag: string, value: string): number => {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number`);
  return Number(value);
};

export const resourceHelp = `mandate resource <command>

  create --uri <uri> [--scope "<s1 s2>"] [--default-scope "<s1 s2>"] [--name <name>]
         [--risk <scope>=<low|medium|high>]… [--describe <scope>=<text>]…
                          register a resource server (an API or MCP server) and its scopes, with the risk
                          level and description the consent page shows (default: low, none);
                          --default-scope: what a client asking for no scope gets here (default: every
                          scope it may hold); prints its API key for introspection, once
  list                    list resources
  show <id|uri>           show one resource
  rotate-key <id|uri> [--grace <seconds>]
                          replace its API key; the old one keeps working for the grace period
                          (default 24 h, MANDATE_API_KEY_ROTATION_GRACE; --grace 0 cuts it at once)
  delete <id|uri>         delete it
  delegation-policy <id|uri> [--max-depth <n>] [--require-human-root] [--allowed-actor <client_id>]…
                          [--clear]
                          show, set (replacing it) or clear the delegation-chain policy of tokens for it:
                          at most <n> actors, a person at the root, only these actors (checked when a
                          token exchange mints; see docs/users-and-delegation.md)

Every command takes --db <url> and --json.`;

/** `--risk exec=high` and `--describe exec=Run commands`: the part before the first `=` names a scope. */
function scopeAssignments(flag: string, values: string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const value of values ?? []) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag} takes <scope>=<value>, got "${value}"`);
    out.set(value.slice(0, at), value.slice(at + 1));
  }
  return out;
}

const describe = (r: ResourceView) =>
  table([
    ['id', r.id],
    ['resource', r.resource],
    ['name', r.name],
    ['scopes', r.scopes.map((s) => (s.risk === 'low' ? s.name : `${s.name} (${s.risk})`)).join(' ') || '-'],
    ['default scopes', r.default_scopes.join(' ') || 'all'],
  ]);

export async function resourceCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, out, config, one: ref } = commandArgs('resource', sub, rest, {
    uri: { type: 'string' },
    scope: { type: 'string', multiple: true },
    'default-scope': { type: 'string', multiple: true },
    name: { type: 'string' },
    risk: { type: 'string', multiple: true },
    describe: { type: 'string', multiple: true },
    grace: { type: 'string' },
    'max-depth': { type: 'string' },
    'require-human-root': { type: 'boolean' },
    'allowed-actor': { type: 'string', multiple: true },
    clear: { type: 'boolean' },
  }, 'id|uri');

  switch (sub) {
    case 'create': {
      if (!values.uri) throw new UsageError('mandate resource create needs --uri');
      const risks = scopeAssignments('--risk', values.risk);
      for (const [name, risk] of risks) {
        if (!['low', 'medium', 'high'].includes(risk)) throw new UsageError(`--risk ${name}=${risk}: the level must be low, medium or high`);
      }
      const descriptions = scopeAssignments('--describe', values.describe);
      const names = scopeList(values.scope);
      for (const name of [...risks.keys(), ...descriptions.keys()]) {
        if (!names.includes(name)) throw new UsageError(`--risk/--describe name ${name}, which is not in --scope`);
      }
      const scopes = names.map((name) => ({ name, risk: risks.get(name) ?? 'low', description: descriptions.get(name) ?? null }));
      const { resource, apiKey } = await withManagement(config, (deps) => createResource({ resource: values.uri, scopes, default_scopes: scopeList(values['default-scope']), name: values.name }, deps));
      return out.print({ ...resource, api_key: apiKey }, `${describe(resource)}\n\napi_key  ${apiKey}\n(shown once: store it now)`);
    }
    case 'list': {
      const resources = await withManagement(config, (deps) => listResources(deps));
      const rows = [['ID', 'RESOURCE', 'SCOPES'], ...resources.map((r) => [r.id, r.resource, r.scopes.map((s) => s.name).join(' ')])];
      return out.print(resources, resources.length ? table(rows) : 'no resources');
    }
    case 'show': {
      const resource = await withManagement(config, (deps) => getResource(ref(), deps));
      return out.print(resource, describe(resource));
    }
    case 'rotate-key': {
      const { resource, apiKey, previousKeyValidUntil } = await withManagement(config, (deps) => rotateResourceKey(ref(), deps, { graceSeconds: values.grace }));
      const previous = previousKeyValidUntil === null ? 'the previous key no longer works' : `the previous key works until ${formatTime(previousKeyValidUntil)}`;
      return out.print({ ...resource, api_key: apiKey, previous_key_valid_until: previousKeyValidUntil }, `api_key  ${apiKey}\n(shown once; ${previous})`);
    }
    case 'delete': {
      const target = ref();
      await withManagement(config, (deps) => deleteResource(target, deps));
      return out.print({ deleted: target }, `deleted ${target}`);
    }
    case 'delegation-policy': {
      const target = ref();
      const policy = {
        ...(values['max-depth'] !== undefined ? { max_depth: wholeNumber('--max-depth', values['max-depth']) } : {}),
        ...(values['require-human-root'] ? { require_human_root: true } : {}),
        ...(values['allowed-actor'] ? { allowed_actors: values['allowed-actor'] } : {}),
      };
      const change = values.clear ? null : Object.keys(policy).length > 0 ? policy : undefined;
      if (values.clear && Object.keys(policy).length > 0) throw new UsageError('--clear takes no other policy option');
      const shown = await withManagement(config, (deps) => (change === undefined ? getResourceDelegationPolicy(target, deps) : setResourceDelegationPolicy(target, change, deps)));
      return out.print(shown, `resource  ${shown.resource}\npolicy    ${JSON.stringify(shown.policy)}`);
    }
    default:
      throw new UsageError(resourceHelp);
  }
}
