import { type AgentView, createAgent, deleteAgent, getAgent, listAgents, rotateAgentSecret, setAgentStatus, updateAgent } from '../../management/agents.ts';
import { commandArgs, formatTime, readJsonFile, scopeList, table, UsageError, withManagement } from '../cli-context.ts';
import { getAgentDelegationPolicy, setAgentDelegationPolicy } from '../../management/delegation-policies.ts';

export const agentHelp = `mandate agent <command>

  create --name <name> [--scope "<s1 s2>"] [--audience <uri>]... [--owner <email>]
         [--description <text>] [--ttl <seconds>] [--jwks-file <path>] [--jwt-bearer]
                          create an agent; prints its client_id and, once, its client_secret
                          (--jwks-file: authenticate with private_key_jwt instead of a secret; the
                          file is a JWK Set of public keys; --jwt-bearer: see jwt-bearer below)
  list                    list agents
  show <client_id>        show one agent
  disable <client_id>     disable it; every token it holds or acts in becomes inactive at once, and every
                          user grant naming it ends (its refresh tokens never work again)
  enable <client_id>      enable it again (tokens and grants from before the disable stay dead)
  rotate-secret <client_id> [--grace <seconds>]
                          issue a new secret; the old one keeps working for the grace period
                          (default 24 h, MANDATE_SECRET_ROTATION_GRACE; --grace 0 cuts it at once)
  set-jwks <client_id> --jwks-file <path>
                          replace the public keys of a private_key_jwt agent (public asymmetric keys only:
                          EC P-256/P-384, Ed25519, RSA ≥ 2048 bits)
  delete <client_id>      delete it and invalidate its tokens
  txn-tokens <client_id> [--allow | --deny]
                          show, allow or deny its requests for Transaction Tokens (off by default; see
                          docs/transaction-tokens.md)
  jwt-bearer <client_id> [--allow | --deny]
                          show, allow or deny its use of the RFC 7523 jwt-bearer grant (trusted
                          issuers' assertions: workload JWTs, identity chaining grants, ID-JAGs; off by
                          default; see docs/cross-domain.md)
  delegation-policy <client_id> [--may-delegate-to <client_id>]… [--clear]
                          show, set (replacing it) or clear the agents it may pass a token on to
                          (checked when a token exchange mints; see docs/users-and-delegation.md)

Every command takes --db <url> and --json.`;

function describe(agent: AgentView): string {
  return table([
    ['client_id', agent.client_id],
    ['name', agent.name],
    ['status', agent.status],
    ['owner', agent.owner ?? '-'],
    ['scopes', agent.scopes.join(' ') || '-'],
    ['audiences', agent.audiences.join(' ') || '-'],
    ['auth method', agent.token_endpoint_auth_method],
    ['token ttl', agent.access_token_ttl_seconds === null ? 'server default' : `${agent.access_token_ttl_seconds}s`],
    ['created', formatTime(agent.created_at)],
  ]);
}

export async function agentCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, out, config, one: id } = commandArgs('agent', sub, rest, {
    name: { type: 'string' },
    scope: { type: 'string', multiple: true },
    audience: { type: 'string', multiple: true },
    owner: { type: 'string' },
    description: { type: 'string' },
    ttl: { type: 'string' },
    'jwks-file': { type: 'string' },
    grace: { type: 'string' },
    'may-delegate-to': { type: 'string', multiple: true },
    clear: { type: 'boolean' },
    allow: { type: 'boolean' },
    deny: { type: 'boolean' },
    'jwt-bearer': { type: 'boolean' },
  }, 'client_id');

  switch (sub) {
    case 'create': {
      if (!values.name) throw new UsageError('mandate agent create needs --name');
      if (values.ttl !== undefined && !/^\d+$/.test(values.ttl)) throw new UsageError('--ttl must be a whole number of seconds');
      const jwks = values['jwks-file'] ? readJsonFile(values['jwks-file'], '--jwks-file') : undefined;
      const { agent, clientSecret } = await withManagement(config, (deps) =>
        createAgent(
          {
            name: values.name,
            scopes: scopeList(values.scope),
            audiences: values.audience ?? [],
            owner: values.owner,
            description: values.description,
            access_token_ttl_seconds: values.ttl === undefined ? undefined : Number(values.ttl),
            ...(jwks ? { token_endpoint_auth_method: 'private_key_jwt', jwks } : {}),
            ...(values['jwt-bearer'] ? { jwt_bearer: true } : {}),
          },
          deps,
        ),
      );
      const secretLine = clientSecret ? `\n\nclient_secret  ${clientSecret}\n(shown once: store it now)` : '';
      return out.print({ ...agent, ...(clientSecret ? { client_secret: clientSecret } : {}) }, `${describe(agent)}${secretLine}`);
    }
    case 'list': {
      const agents = await withManagement(config, (deps) => listAgents(deps.store));
      const rows = [['CLIENT_ID', 'NAME', 'STATUS', 'SCOPES'], ...agents.map((a) => [a.client_id, a.name, a.status, a.scopes.join(' ')])];
      return out.print(agents, agents.length ? table(rows) : 'no agents');
    }
    case 'show': {
      const agent = await withManagement(config, (deps) => getAgent(deps.store, id()));
      return out.print(agent, describe(agent));
    }
    case 'disable':
    case 'enable': {
      const agent = await withManagement(config, (deps) => setAgentStatus(id(), sub === 'disable' ? 'disabled' : 'active', deps));
      return out.print(agent, `${agent.client_id} is ${agent.status}`);
    }
    case 'rotate-secret': {
      const { agent, clientSecret } = await withManagement(config, (deps) => rotateAgentSecret(id(), deps, { graceSeconds: values.grace }));
      const previous = agent.previous_secret_expires_at === null ? 'the previous secret no longer works' : `the previous secret works until ${formatTime(agent.previous_secret_expires_at)}`;
      return out.print({ ...agent, client_secret: clientSecret }, `client_secret  ${clientSecret}\n(shown once; ${previous})`);
    }
    case 'set-jwks': {
      const clientId = id();
      if (!values['jwks-file']) throw new UsageError('mandate agent set-jwks needs --jwks-file <path>');
      const jwks = readJsonFile(values['jwks-file'], '--jwks-file');
      const agent = await withManagement(config, (deps) => updateAgent(clientId, { jwks }, deps));
      return out.print(agent, `${agent.client_id} now has ${agent.jwks?.keys.length ?? 0} public key(s)`);
    }
    case 'delete': {
      const clientId = id();
      await withManagement(config, (deps) => deleteAgent(clientId, deps));
      return out.print({ deleted: clientId }, `deleted ${clientId}`);
    }
    case 'txn-tokens':
    case 'jwt-bearer': {
      const clientId = id();
      if (values.allow && values.deny) throw new UsageError('--allow and --deny exclude each other');
      const change = values.allow ? true : values.deny ? false : undefined;
      const field = sub === 'txn-tokens' ? 'txn_tokens' : 'jwt_bearer';
      const agent = await withManagement(config, (deps) => (change === undefined ? getAgent(deps.store, clientId) : updateAgent(clientId, { [field]: change }, deps)));
      return out.print(agent, `agent       ${agent.client_id}
${sub.padEnd(11)} ${agent[field] ? 'allowed' : 'denied'}`);
    }
    case 'delegation-policy': {
      const clientId = id();
      if (values.clear && values['may-delegate-to']) throw new UsageError('--clear takes no other policy option');
      const change = values.clear ? null : values['may-delegate-to'] ? { may_delegate_to: values['may-delegate-to'] } : undefined;
      const shown = await withManagement(config, (deps) => (change === undefined ? getAgentDelegationPolicy(clientId, deps) : setAgentDelegationPolicy(clientId, change, deps)));
      return out.print(shown, `agent   ${shown.agent}\npolicy  ${JSON.stringify(shown.policy)}`);
    }
    default:
      throw new UsageError(agentHelp);
  }
}
