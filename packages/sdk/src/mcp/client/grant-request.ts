import { jwtBearerForm, requestIdJag } from '../../agent/id-jag.ts';
import type { HttpOptions } from '../../lib/fetch-json.ts';
import type { CheckedDiscovery } from './discovery-check.ts';
import type { McpOAuthClientOptions } from './options.ts';

/**
 * The token request of the grants without a browser, with the resource's scopes: `client_credentials` (RFC 6749
 * §4.4; MCP client credentials extension); `jwt-bearer` with the workload's JWT (RFC 7523 §2.1, SEP-1933);
 * `enterprise-managed`: an ID-JAG asked of the identity provider for this authorization server (`audience`, its
 * issuer) and this MCP server (`resource`, as its metadata names it), presented with `jwt-bearer` (SEP-990). The
 * MCP SDK adds `resource` and client authentication.
 */
export async function grantRequestForm(options: Pick<McpOAuthClientOptions, 'grantType' | 'assertion' | 'identityProvider' | 'scope'>, current: CheckedDiscovery, http: HttpOptions & { clock: () => number }): Promise<URLSearchParams> {
  const scopes = options.scope ?? current.resourceMetadata.scopes_supported?.join(' ');
  const scope = (scopes ?? '').split(' ').filter((s) => s !== '');
  const { grantType, assertion, identityProvider } = options;
  if (grantType === 'jwt-bearer') return jwtBearerForm(typeof assertion === 'function' ? await assertion() : assertion!, scope);
  if (grantType === 'enterprise-managed') {
    const idJag = await requestIdJag(identityProvider!, { audience: current.issuer, resource: current.resource, scope }, http);
    return jwtBearerForm(idJag, scope);
  }
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope.length > 0) form.set('scope', scope.join(' '));
  return form;
}
