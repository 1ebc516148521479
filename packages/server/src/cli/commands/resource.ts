import { parseArgs } from 'node:util';
import { createResource, deleteResource, getResource, listResources, type ResourceView, rotateResourceKey } from '../../management/resources.ts';
import { cliConfig, output, scopeList, table, UsageError, withManagement } from '../cli-context.ts';

export const resourceHelp = `mandate resource <command>

  create --uri <uri> [--scope "<s1 s2>"] [--name <name>]
                          register a resource server (an API or MCP server) and its scopes;
                          prints its API key for introspection, once
  list                    list resources
  show <id|uri>           show one resource
  rotate-key <id|uri>     replace its API key (the old one stops working at once)
  delete <id|uri>         delete it

Every command takes --db <url> and --json.`;

const describe = (r: ResourceView) =>
  table([
    ['id', r.id],
    ['resource', r.resource],
    ['name', r.name],
    ['scopes', r.scopes.map((s) => s.name).join(' ') || '-'],
  ]);

export async function resourceCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      db: { type: 'string' },
      json: { type: 'boolean', default: false },
      uri: { type: 'string' },
      scope: { type: 'string', multiple: true },
      name: { type: 'string' },
    },
  });
  const out = output(values.json);
  const config = cliConfig({ databaseUrl: values.db });
  const ref = () => {
    if (positionals.length !== 1) throw new UsageError(`mandate resource ${sub} needs exactly one <id|uri>`);
    return positionals[0]!;
  };

  switch (sub) {
    case 'create': {
      if (!values.uri) throw new UsageError('mandate resource create needs --uri');
      const { resource, apiKey } = await withManagement(config, (deps) =>
        createResource({ resource: values.uri, scopes: scopeList(values.scope), name: values.name }, deps),
      );
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
      const { resource, apiKey } = await withManagement(config, (deps) => rotateResourceKey(ref(), deps));
      return out.print({ ...resource, api_key: apiKey }, `api_key  ${apiKey}\n(shown once)`);
    }
    case 'delete': {
      const target = ref();
      await withManagement(config, (deps) => deleteResource(target, deps));
      return out.print({ deleted: target }, `deleted ${target}`);
    }
    default:
      throw new UsageError(resourceHelp);
  }
}
