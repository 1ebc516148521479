import { type ClientView, createClient, deleteClient, getClient, listClients, setClientStatus } from '../../management/clients.ts';
import { commandArgs, formatTime, readJsonFile, scopeList, table, UsageError, withManagement } from '../cli-context.ts';

export const clientHelp = `mandate client <command>

  create --name <name> --redirect-uri <uri>... [--public] [--scope "<s1 s2>"] [--audience <uri>]...
         [--default-scope "<s1 s2>"] [--grant-type <type>]... [--owner <email>] [--description <text>]
         [--jwks-file <path>] [--require-par]
                          register an OAuth application; prints its client_id and, unless --public or
                          --jwks-file, its client_secret (once). Public clients authenticate with PKCE only;
                          --jwks-file: with private_key_jwt and these public keys (the FAPI 2.0 mode needs it).
                          --require-par: its authorization requests must be pushed first (RFC 9126).
                          --default-scope: what it gets when it asks for no scope (default: the
                          resource's default scopes). Grant types default to authorization_code
                          refresh_token.
  list                    list applications (SOURCE: operator, or dynamic / metadata document for clients
                          that registered themselves: unverified)
  show <client_id>        show one
  disable <client_id>     disable: every token issued to it becomes inactive at once and every user
                          grant it holds ends (its refresh tokens never work again)
  enable <client_id>      enable again (tokens and grants from before the disable stay dead)
  delete <client_id>      delete it

Every command takes --db <url> and --json.`;

/** Who created the client: an operator, or the client itself (unverified). */
function source(client: ClientView): string {
  const registration = client.registration;
  if (!registration) return 'operator';
  if (registration.source === 'dynamic') return 'dynamic (self-registered, unverified)';
  return `metadata document on ${registration.document_host} (unverified)`;
}

function describe(client: ClientView): string {
  return table([
    ['client_id', client.client_id],
    ['name', client.name],
    ['source', source(client)],
    ['status', client.status],
    ['auth method', client.token_endpoint_auth_method],
    ['redirect uris', client.redirect_uris.join(' ')],
    ['scopes', client.scopes.join(' ') || '-'],
    ['default scopes', client.default_scopes.join(' ') || "the resource's"],
    ['audiences', client.audiences.join(' ') || 'any registered resource'],
    ['grant types', client.grant_types.join(' ')],
    ['requires PAR', client.require_pushed_authorization_requests ? 'yes' : 'no'],
    ['created', formatTime(client.created_at)],
  ]);
}

export async function clientCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, out, config, one: id } = commandArgs('client', sub, rest, {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    public: { type: 'boolean', default: false },
    scope: { type: 'string', multiple: true },
    'default-scope': { type: 'string', multiple: true },
    audience: { type: 'string', multiple: true },
    'grant-type': { type: 'string', multiple: true },
    owner: { type: 'string' },
    description: { type: 'string' },
    'jwks-file': { type: 'string' },
    'require-par': { type: 'boolean', default: false },
  }, 'client_id');

  switch (sub) {
    case 'create': {
      if (!values.name) throw new UsageError('mandate client create needs --name');
      if (!values['redirect-uri']?.length) throw new UsageError('mandate client create needs --redirect-uri');
      const { client, clientSecret } = await withManagement(config, (deps) =>
        createClient(
          {
            name: values.name,
            redirect_uris: values['redirect-uri'],
            public: values.public,
            scopes: scopeList(values.scope),
            default_scopes: scopeList(values['default-scope']),
            audiences: values.audience ?? [],
            owner: values.owner,
            description: values.description,
            ...(values['grant-type'] ? { grant_types: values['grant-type'] } : {}),
            ...(values['jwks-file'] ? { jwks: readJsonFile(values['jwks-file'], '--jwks-file') } : {}),
            require_pushed_authorization_requests: values['require-par'],
          },
          deps,
        ),
      );
      const secretLine = clientSecret ? `\n\nclient_secret  ${clientSecret}\n(shown once: store it now)` : '';
      return out.print({ ...client, ...(clientSecret ? { client_secret: clientSecret } : {}) }, `${describe(client)}${secretLine}`);
    }
    case 'list': {
      const clients = await withManagement(config, (deps) => listClients(deps));
      const rows = [
        ['CLIENT_ID', 'NAME', 'STATUS', 'AUTH', 'SOURCE'],
        ...clients.map((c) => [c.client_id, c.name, c.status, c.token_endpoint_auth_method, c.registration ? c.registration.source.replace('_', ' ') : 'operator']),
      ];
      return out.print(clients, clients.length ? table(rows) : 'no clients');
    }
    case 'show': {
      const client = await withManagement(config, (deps) => getClient(id(), deps));
      return out.print(client, describe(client));
    }
    case 'disable':
    case 'enable': {
      const client = await withManagement(config, (deps) => setClientStatus(id(), sub === 'disable' ? 'disabled' : 'active', deps));
      return out.print(client, `${client.client_id} is ${client.status}`);
    }
    case 'delete': {
      const target = id();
      await withManagement(config, (deps) => deleteClient(target, deps));
      return out.print({ deleted: target }, `deleted ${target}`);
    }
    default:
      throw new UsageError(clientHelp);
  }
}
