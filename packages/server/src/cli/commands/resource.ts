import { createResource, deleteResource, getResource, listResources, type ResourceView, rotateResourceKey, updateResource } from '../../management/resources.ts';
import { getResourceDelegationPolicy, setResourceDelegationPolicy } from '../../management/delegation-policies.ts';
import { listScopePolicies, type ScopePolicyView, setScopePolicy } from '../../management/scope-policies.ts';
import { deleteToolPolicy, listToolPolicies, setToolPolicy } from '../../management/tool-policies.ts';
import { deleteRevocationWebhook, getRevocationWebhook, setRevocationWebhook } from '../../management/revocation-webhooks.ts';
import { deriveWebhookSecretKey, loadKek } from '../../keys/kek.ts';
import { commandArgs, formatTime, scopeList, table, UsageError, withManagement } from '../cli-context.ts';

const wholeNumber = (flag: string, value: string): number => {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number`);
  return Number(value);
};

export const resourceHelp = `mandate resource <command>

  create --uri <uri> [--scope "<s1 s2>"] [--default-scope "<s1 s2>"] [--name <name>]
         [--risk <scope>=<low|medium|high|critical>]… [--describe <scope>=<text>]…
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
  downstream <id|uri> [--to <uri>]… [--clear]
                          show or set (replacing them) the downstream resources this resource server may
                          exchange the tokens it receives into, for calls on the user's behalf (RFC 8693
                          with its API key; see docs/users-and-delegation.md)
  txn-tokens <id|uri> [--allow | --deny]
                          show, allow or deny its requests for Transaction Tokens with its API key
                          (off by default; see docs/transaction-tokens.md)
  delegation-policy <id|uri> [--max-depth <n>] [--require-human-root] [--allowed-actor <client_id>]…
                          [--clear]
                          show, set (replacing it) or clear the delegation-chain policy of tokens for it:
                          at most <n> actors, a person at the root, only these actors (checked when a
                          token exchange mints; see docs/users-and-delegation.md)
  webhook <id|uri> [--url <url>] [--clear]
                          show its revocation webhook and delivery log, set it (prints the signing
                          secret, once; needs the server's KEK) or clear it (see docs/sdk.md)
  policies <id|uri>       show each scope's policy (set, or the default of its risk)
  policy <id|uri> <scope> --policy <auto|user_consent|admin_approval|role_required|deny>
         [--role <role>] [--approver <approvers|user>] [--risk <low|medium|high|critical>] [--clients <id,id>]
         [--max-lifetime <seconds>] [--max-chain-depth <n>] [--window <HH:MM-HH:MM>]
                          set a scope's policy (a new version, audited); the conditions limit who may get
                          the scope, how long its tokens live, how deep a delegation chain and when (UTC);
                          --approver user (admin_approval only): the user the agent acts for may decide too
  tools <id|uri>          show which of its tools take per-action approvals
  tool <id|uri> <tool> (--per-action-approval [--risk <low|medium|high|critical>] | --clear)
                          let calls of the tool be approved one by one (RFC 9396 mcp_tool details; the
                          risk approvers see, default high), or stop it (see docs/actions.md)

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
    ['downstream', r.downstream_resources.join(' ') || '-'],
  ]);

export async function resourceCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals, out, config, one: ref } = commandArgs('resource', sub, rest, {
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
    'per-action-approval': { type: 'boolean' },
    policy: { type: 'string' },
    role: { type: 'string' },
    approver: { type: 'string' },
    clients: { type: 'string' },
    'max-lifetime': { type: 'string' },
    'max-chain-depth': { type: 'string' },
    window: { type: 'string' },
    url: { type: 'string' },
    to: { type: 'string', multiple: true },
    allow: { type: 'boolean' },
    deny: { type: 'boolean' },
  }, 'id|uri');

  switch (sub) {
    case 'create': {
      if (!values.uri) throw new UsageError('mandate resource create needs --uri');
      const risks = scopeAssignments('--risk', values.risk);
      for (const [name, risk] of risks) {
        if (!['low', 'medium', 'high', 'critical'].includes(risk)) throw new UsageError(`--risk ${name}=${risk}: the level must be low, medium, high or critical`);
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
    case 'downstream': {
      const target = ref();
      if (values.clear && values.to) throw new UsageError('--clear takes no --to');
      const change = values.clear ? [] : values.to;
      const resource = await withManagement(config, (deps) => (change === undefined ? getResource(target, deps) : updateResource(target, { downstream_resources: change }, deps)));
      return out.print(resource, `resource    ${resource.resource}\ndownstream  ${resource.downstream_resources.join(' ') || '-'}`);
    }
    case 'txn-tokens': {
      const target = ref();
      if (values.allow && values.deny) throw new UsageError('--allow and --deny exclude each other');
      const change = values.allow ? true : values.deny ? false : undefined;
      const resource = await withManagement(config, (deps) => (change === undefined ? getResource(target, deps) : updateResource(target, { txn_tokens: change }, deps)));
      return out.print(resource, `resource    ${resource.resource}
txn-tokens  ${resource.txn_tokens ? 'allowed' : 'denied'}`);
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
    case 'webhook': {
      const target = ref();
      if (values.clear && values.url !== undefined) throw new UsageError('--clear takes no --url');
      if (values.clear) {
        await withManagement(config, (deps) => deleteRevocationWebhook(target, deps));
        return out.print({ cleared: target }, `revocation webhook of ${target} removed`);
      }
      if (values.url !== undefined) {
        const url = values.url;
        const set = await withManagement(config, (deps) => setRevocationWebhook(target, { url }, deps, deriveWebhookSecretKey(loadKek(config.keys))));
        return out.print(set, `url     ${set.url}
secret  ${set.secret}
(shown once: the receiver verifies Mandate-Signature with it)`);
      }
      const shown = await withManagement(config, (deps) => getRevocationWebhook(target, deps));
      const rows = [['EVENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST RESULT'], ...shown.deliveries.map((d) => [d.event_id, d.status, String(d.attempts), d.status === 'pending' ? formatTime(d.next_attempt_at) : '-', d.last_result ?? '-'])];
      return out.print(shown, `resource  ${shown.resource}
url       ${shown.url}

${shown.deliveries.length ? table(rows) : 'no deliveries yet'}`);
    }
    case 'policies': {
      const { resource, policies } = await withManagement(config, (deps) => listScopePolicies(ref(), deps));
      const rows = [['SCOPE', 'RISK', 'POLICY', 'VERSION'], ...policies.map((p) => [p.scope, p.risk, policyText(p), p.source === 'default' ? 'default' : `v${p.version}`])];
      return out.print({ resource, policies }, policies.length ? table(rows) : 'no scopes');
    }
    case 'policy': {
      if (positionals.length !== 2) throw new UsageError('mandate resource policy needs <id|uri> <scope>');
      if (!values.policy) throw new UsageError('mandate resource policy needs --policy');
      const view = await withManagement(config, (deps) => setScopePolicy(positionals[0]!, positionals[1]!, policyInput(values), deps));
      return out.print(view, `${view.scope}: ${policyText(view)} (v${view.version})`);
    }
    case 'tools': {
      const { resource, tools } = await withManagement(config, (deps) => listToolPolicies(ref(), deps));
      const rows = [['TOOL', 'PER-ACTION APPROVAL', 'RISK', 'UPDATED BY'], ...tools.map((t) => [t.tool, t.per_action_approval ? 'yes' : 'no', t.risk, t.updated_by])];
      return out.print({ resource, tools }, tools.length ? table(rows) : 'no tool policies: no tool takes per-action approvals');
    }
    case 'tool': {
      if (positionals.length !== 2) throw new UsageError('mandate resource tool needs <id|uri> <tool>');
      const [target, tool] = positionals as [string, string];
      if (values.clear) {
        if (values['per-action-approval'] || values.risk) throw new UsageError('--clear takes no other option');
        await withManagement(config, (deps) => deleteToolPolicy(target, tool, deps));
        return out.print({ tool, cleared: true }, `${tool}: no per-action approvals`);
      }
      if (!values['per-action-approval']) throw new UsageError('mandate resource tool needs --per-action-approval or --clear');
      if ((values.risk?.length ?? 0) > 1) throw new UsageError('--risk is given once for a tool');
      const view = await withManagement(config, (deps) => setToolPolicy(target, tool, { per_action_approval: true, ...(values.risk?.[0] ? { risk: values.risk[0] } : {}) }, deps));
      return out.print(view, `${view.tool}: per-action approval, risk ${view.risk}`);
    }
    default:
      throw new UsageError(resourceHelp);
  }
}

const policyText = (p: ScopePolicyView) => {
  const c = p.conditions;
  const parts = [p.policy === 'role_required' ? `role_required(${p.role})` : p.approver === 'user' ? 'admin_approval(approver: user)' : p.policy];
  if (c?.clients) parts.push(`clients ${c.clients.join(',')}`);
  if (c?.max_token_lifetime_seconds !== undefined) parts.push(`max ${c.max_token_lifetime_seconds}s`);
  if (c?.max_chain_depth !== undefined) parts.push(`chain ≤ ${c.max_chain_depth}`);
  if (c?.time_window) parts.push(`${c.time_window.from}–${c.time_window.to} UTC`);
  return parts.join(', ');
};

/** The flags of `policy` as the admin API's body; management/ validates it. */
function policyInput(values: Record<string, unknown>): Record<string, unknown> {
  const number = (flag: string) => {
    const value = values[flag];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) throw new UsageError(`--${flag} takes a whole number, got "${String(value)}"`);
    return n;
  };
  let window: { from: string; to: string } | undefined;
  if (typeof values['window'] === 'string') {
    const [from, to, extra] = values['window'].split('-');
    if (!from || !to || extra !== undefined) throw new UsageError(`--window takes HH:MM-HH:MM, got "${values['window']}"`);
    window = { from, to };
  }
  const conditions = {
    ...(typeof values['clients'] === 'string' ? { clients: values['clients'].split(',').filter(Boolean) } : {}),
    ...(values['max-lifetime'] !== undefined ? { max_token_lifetime_seconds: number('max-lifetime') } : {}),
    ...(values['max-chain-depth'] !== undefined ? { max_chain_depth: number('max-chain-depth') } : {}),
    ...(window ? { time_window: window } : {}),
  };
  return {
    policy: values['policy'],
    ...(values['role'] !== undefined ? { role: values['role'] } : {}),
    ...(values['approver'] !== undefined ? { approver: values['approver'] } : {}),
    // --risk is repeatable for `create`; here it is the scope's level, the last one given.
    ...(Array.isArray(values['risk']) && values['risk'].length ? { risk: values['risk'].at(-1) } : {}),
    ...(Object.keys(conditions).length ? { conditions } : {}),
  };
}
