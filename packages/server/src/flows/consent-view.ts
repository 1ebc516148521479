import type { McpToolAuthorizationDetail } from '@mandate/protocol';
import { isOidcScope, OIDC_SCOPES } from '../policy/oidc-scopes.ts';
import type { ClientRegistrationRecords } from '../store/store.ts';
import type { ConsentPageModel, ConsentScope } from '../ui/consent-page.ts';
import type { AuthorizationRequest } from './authorization-request.ts';
import { type LookAlikeDeps, selfRegisteredLookAlike } from './look-alike-clients.ts';

/** What the consent page shows (the endpoint adds the page's base path, the form's CSRF token and the pending request's id). */
export type ConsentView = Omit<ConsentPageModel, 'base' | 'csrf' | 'requestId'>;

export interface ConsentViewDeps extends LookAlikeDeps {
  /** How a self-registered client came to be, which the consent page says (unverified); what its name looks like. */
  registrations: Pick<ClientRegistrationRecords, 'getClientRegistration' | 'listVouchedClientNames'>;
}

/**
 * The consent page's data: the scopes this request adds, and those granted before apart from them; `userLabel`
 * names the signed-in user (their e-mail, else their id).
 */
export async function consentView(
  deps: ConsentViewDeps,
  auth: AuthorizationRequest,
  userLabel: string,
  reconfirm: boolean,
  before: readonly string[],
  approvalNeeded: string | null,
): Promise<ConsentView> {
  const registration = await deps.registrations.getClientRegistration(auth.client.clientId);
  const described = auth.scopes.map((name): ConsentScope => {
    if (isOidcScope(name)) return { name, description: OIDC_SCOPES[name]!.description, risk: OIDC_SCOPES[name]!.risk, resource: null };
    const uri = auth.resources.find((u) => auth.registered.get(u)!.scopes.some((s) => s.name === name))!;
    const scope = auth.registered.get(uri)!.scopes.find((s) => s.name === name)!;
    return { name, description: scope.description ?? name, risk: scope.risk, resource: uri };
  });
  const scopes = described.filter((s) => !before.includes(s.name));
  return {
    userEmail: userLabel,
    client: {
      id: auth.client.clientId,
      name: auth.client.name,
      redirectHost: new URL(auth.redirectUri).host || auth.redirectUri,
      isPublic: auth.client.tokenEndpointAuthMethod === 'none',
      selfRegistered: registration && {
        source: registration.source,
        documentHost: registration.source === 'metadata_document' ? new URL(registration.clientId).host : null,
        lookAlike: await selfRegisteredLookAlike(auth.client.name, deps),
      },
    },
    agent: auth.actor && { id: auth.actor.clientId, name: auth.actor.name, owner: auth.actor.owner, description: auth.actor.description },
    scopes,
    alreadyGranted: described.filter((s) => before.includes(s.name)),
    resources: auth.resources,
    offlineAccess: auth.scopes.includes('offline_access'),
    reconfirm,
    approvalNeeded,
    ...(auth.authorizationDetails ? { action: actionView(auth.authorizationDetails[0]!) } : {}),
  };
}

/** What the consent page says of a tool call. */
const actionView = (detail: McpToolAuthorizationDetail) => ({ tool: detail.tool, argumentsSha256: detail.arguments_sha256, resource: detail.locations?.[0] ?? '' });
