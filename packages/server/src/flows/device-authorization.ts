import type { AuditLog } from '../audit/audit-log.ts';
import type { MandateConfig } from '../config.ts';
import type { FormParams } from '../oauth/form-params.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { isOidcScope, OIDC_SCOPES } from '../policy/oidc-scopes.ts';
import { decideScopes } from '../policy/scope-policy.ts';
import type { ClientRecord, ClientRecords, ClientRegistrationRecords, DeviceAuthorizationRecord, DeviceAuthorizationRecords, ResourceRecord, ResourceRecords, UserRecords } from '../store/store.ts';
import { StoreConflictError } from '../store/store.ts';
import { generateSecret, hashSecret, newId } from '../tokens/secret.ts';
import { formatUserCode, generateUserCode, normalizeUserCode, userCodeHash } from '../tokens/user-code.ts';
import type { ConsentScope } from '../ui/consent-page.ts';
import { decideAuthorizationTargets } from './authorization-request.ts';
import type { SignedInUser } from './authorize.ts';
import type { LookAlike } from '../policy/look-alike-names.ts';
import { selfRegisteredLookAlike } from './look-alike-clients.ts';

/**
 * RFC 8628 device authorization grant (issue 13 item 7), the two steps before the token request
 * (grants/device-code.ts): §3.1–3.2, a client (often a headless agent or a CLI) asks for a device code and a user
 * code; §3.3, a person signed in on any browser enters the user code on the verification page, sees what the client
 * asks for, and approves or denies, with the consent page's semantics: the same target policy decides the
 * resources and scopes, and the scope policies refuse (deny, a missing role, an unmet condition, a scope needing an
 * approver) before anything is granted.
 */

export interface DeviceAuthorizationDeps {
  clients: Pick<ClientRecords, 'getClient'>;
  registrations: Pick<ClientRegistrationRecords, 'getClientRegistration' | 'listVouchedClientNames'>;
  resources: Pick<ResourceRecords, 'listResources'>;
  users: Pick<UserRecords, 'getUser'>;
  devices: Pick<DeviceAuthorizationRecords, 'createDeviceAuthorization' | 'getDeviceAuthorizationByUserCode' | 'decideDeviceAuthorization'>;
  audit: Pick<AuditLog, 'record'>;
  settings: Pick<MandateConfig['device'], 'codeTtlSeconds' | 'pollIntervalSeconds'>;
  /** The verification page's URL (RFC 8628 §3.2 `verification_uri`). */
  verificationUri: string;
  /** The key user codes are stored under (`deriveUserCodeKey(kek)`, tokens/user-code.ts). */
  userCodeKey: Buffer;
}

/** RFC 8628 §3.2 device authorization response. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** What the verification page shows before the person decides. */
export interface DeviceConfirmView {
  userCode: string;
  userEmail: string;
  client: { id: string; name: string; isPublic: boolean; selfRegistered: boolean; lookAlike: LookAlike | null };
  scopes: ConsentScope[];
  resources: string[];
  offlineAccess: boolean;
  expiresInSeconds: number;
}

export type DeviceLookup =
  | { kind: 'confirm'; view: DeviceConfirmView }
  /** The code is unknown, malformed, expired or already decided: one answer for all, so a guess learns nothing. */
  | { kind: 'invalid' };

export type DeviceDecisionOutcome =
  | { kind: 'approved'; clientName: string }
  | { kind: 'denied'; clientName: string; reason: string }
  | { kind: 'invalid' };

const DEVICE_REFUSED = 'unknown or disabled client';

/** The client may use the device grant now (an active application or agent allowed it). */
export function deviceClientRefusal(client: ClientRecord | null, grantType: string): string | null {
  if (!client || client.status !== 'active') return DEVICE_REFUSED;
  if (!client.grantTypes.includes(grantType)) return `this client may not use ${grantType}`;
  return null;
}

export function deviceAuthorizationFlow(deps: DeviceAuthorizationDeps) {
  const registeredResources = async () => new Map((await deps.resources.listResources()).map((r) => [r.uri, r]));

  function describe(scopes: readonly string[], resources: readonly string[], registered: ReadonlyMap<string, ResourceRecord>): ConsentScope[] {
    return scopes.map((name): ConsentScope => {
      if (isOidcScope(name)) return { name, description: OIDC_SCOPES[name]!.description, risk: OIDC_SCOPES[name]!.risk, resource: null };
      const uri = resources.find((u) => registered.get(u)?.scopes.some((s) => s.name === name));
      const scope = uri === undefined ? undefined : registered.get(uri)!.scopes.find((s) => s.name === name);
      return { name, description: scope?.description ?? name, risk: scope?.risk ?? 'medium', resource: uri ?? null };
    });
  }

  /** The pending, unexpired request a typed code names, or null (malformed, unknown, expired, decided). */
  async function pendingByCode(typed: string, now: number): Promise<DeviceAuthorizationRecord | null> {
    const normalized = normalizeUserCode(typed);
    if (normalized === null) return null;
    const record = await deps.devices.getDeviceAuthorizationByUserCode(userCodeHash(deps.userCodeKey, normalized));
    if (!record || record.status !== 'pending' || record.expiresAt <= now) return null;
    return record;
  }

  return {
    /** §3.1: the client is authenticated (or identified, if public) and allowed the grant by the endpoint. */
    async requestAuthorization(client: ClientRecord, params: FormParams, ip: string, now: number): Promise<DeviceAuthorizationResponse> {
      const registered = await registeredResources();
      const targets = decideAuthorizationTargets(client, null, { resources: parseResourceParameters(params), scopes: parseScope(params.get('scope')) }, registered);
      if (!targets.ok) throw new OAuthError(targets.error, targets.description);

      const deviceCode = generateSecret();
      const { codeTtlSeconds, pollIntervalSeconds } = deps.settings;
      const record: DeviceAuthorizationRecord = {
        id: newId('dev'),
        deviceCodeHash: hashSecret(deviceCode),
        userCodeHash: '',
        clientId: client.clientId,
        scopes: targets.scopes,
        resources: targets.resources,
        status: 'pending',
        userId: null,
        authTime: null,
        amr: null,
        reason: null,
        pollInterval: pollIntervalSeconds,
        lastPolledAt: null,
        createdAt: now,
        expiresAt: now + codeTtlSeconds,
        decidedAt: null,
        usedAt: null,
      };
      // A user code is short: two requests may draw the same one (the unique index says so); draw again.
      let userCode = '';
      for (let attempt = 0; ; attempt++) {
        userCode = generateUserCode();
        try {
          await deps.devices.createDeviceAuthorization({ ...record, userCodeHash: userCodeHash(deps.userCodeKey, normalizeUserCode(userCode)!) });
          break;
        } catch (err) {
          if (!(err instanceof StoreConflictError) || attempt >= 4) throw err;
        }
      }
      await deps.audit.record({
        event: 'device.requested',
        actor: client.clientId,
        clientId: client.clientId,
        ip,
        detail: { device_authorization: record.id, scope: targets.scopes.join(' '), resources: targets.resources, expires_in: codeTtlSeconds },
      });
      const complete = new URL(deps.verificationUri);
      complete.searchParams.set('user_code', userCode);
      return {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: deps.verificationUri,
        verification_uri_complete: complete.href,
        expires_in: codeTtlSeconds,
        interval: pollIntervalSeconds,
      };
    },

    /** §3.3: the person entered a code; what the page shows them to decide on. */
    async lookUp(typed: string, user: SignedInUser, now: number): Promise<DeviceLookup> {
      const record = await pendingByCode(typed, now);
      if (!record) return { kind: 'invalid' };
      const client = await deps.clients.getClient(record.clientId);
      if (!client || client.status !== 'active') return { kind: 'invalid' };
      const registration = await deps.registrations.getClientRegistration(client.clientId);
      const registered = await registeredResources();
      return {
        kind: 'confirm',
        view: {
          userCode: formatUserCode(normalizeUserCode(typed)!),
          userEmail: user.email ?? user.id,
          client: {
            id: client.clientId,
            name: client.name,
            isPublic: client.tokenEndpointAuthMethod === 'none',
            selfRegistered: registration !== null,
            lookAlike: registration ? await selfRegisteredLookAlike(client.name, deps) : null,
          },
          scopes: describe(record.scopes, record.resources, registered),
          resources: record.resources,
          offlineAccess: record.scopes.includes('offline_access'),
          expiresInSeconds: record.expiresAt - now,
        },
      };
    },

    /**
     * §3.3: the person's answer. An approval is checked again with today's client and policies (as the consent step
     * does): a client disabled or narrowed meanwhile, or a scope policy that refuses, turns it into a denial with
     * that reason, which the polling client receives as `access_denied`.
     */
    async decide(typed: string, approve: boolean, user: SignedInUser, ip: string, now: number, grantType: string): Promise<DeviceDecisionOutcome> {
      const record = await pendingByCode(typed, now);
      if (!record) return { kind: 'invalid' };
      const client = await deps.clients.getClient(record.clientId);
      if (deviceClientRefusal(client, grantType) !== null) return { kind: 'invalid' };
      const decidedBy = { userId: user.id, authTime: user.authTime ?? now, amr: [...user.amr] };
      const deny = async (reason: string) => {
        if (!(await deps.devices.decideDeviceAuthorization(record.id, { status: 'denied', ...decidedBy, reason, scopes: record.scopes, resources: record.resources }, now))) return { kind: 'invalid' } as const;
        await deps.audit.record({ event: 'device.denied', actor: user.id, subject: user.id, clientId: client!.clientId, ip, detail: { device_authorization: record.id, reason } });
        return { kind: 'denied', clientName: client!.name, reason } as const;
      };
      if (!approve) return deny('the user denied the request');

      const registered = await registeredResources();
      const targets = decideAuthorizationTargets(client!, null, record, registered);
      if (!targets.ok) return deny(targets.description);
      const policies = await decideScopes({
        flow: 'authorization_request',
        scopes: targets.scopes,
        resources: targets.resources,
        registered,
        parties: [client!.clientId],
        userRoles: async () => (await deps.users.getUser(user.id))?.roles ?? [],
        chainDepth: 0,
        now,
      });
      if (!policies.ok) return deny(policies.description);
      const approved = { status: 'approved' as const, ...decidedBy, reason: null, scopes: targets.scopes, resources: targets.resources };
      if (!(await deps.devices.decideDeviceAuthorization(record.id, approved, now))) return { kind: 'invalid' };
      await deps.audit.record({
        event: 'device.approved',
        actor: user.id,
        subject: user.id,
        clientId: client!.clientId,
        ip,
        detail: { device_authorization: record.id, scope: targets.scopes.join(' '), resources: targets.resources },
      });
      return { kind: 'approved', clientName: client!.name };
    },
  };
}

export type DeviceAuthorizationFlow = ReturnType<typeof deviceAuthorizationFlow>;
