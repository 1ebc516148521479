import { GRANT_TYPE_DEVICE_CODE } from '@mandate/protocol';
import { invalidGrant, OAuthError } from '../oauth/oauth-error.ts';
import type { DeviceAuthorizationRecords, UserGrantRecords, UserRecords } from '../store/store.ts';
import { decisionProblem } from '../lifecycle/token-lifecycle.ts';
import { hashSecret, newId } from '../tokens/secret.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';
import { issueUserTokens, policyLimitedLifetime, type UserTokenDeps } from './user-tokens.ts';

export interface DeviceCodeDeps extends UserTokenDeps {
  devices: Pick<DeviceAuthorizationRecords, 'pollDeviceAuthorization' | 'useDeviceAuthorization'>;
  grants: Pick<UserGrantRecords, 'createGrant'>;
  users: Pick<UserRecords, 'getUser'>;
  refreshTokenFamilyTtlSeconds: number;
}

/** RFC 8628 §3.5: after `slow_down` the client must wait 5 s longer, for this and every later request. */
export const SLOW_DOWN_STEP_SECONDS = 5;

/**
 * RFC 8628 §3.4–3.5 device access token request: the client polls with its `device_code`. The answers, exactly
 * as §3.5 specifies: `authorization_pending` while the person has not decided; `slow_down` for a poll sooner than
 * the interval since the last one (the interval then grows by 5 s, measured on the injected clock); `access_denied`
 * once denied (by the person, or by a scope policy at approval); `expired_token` once the code expired;
 * `invalid_grant` for an unknown code, another client's, or one already used (DAG-02). An approval yields the
 * user's tokens once, as the code flow's: a user grant (so the lifecycle rules apply), an access token (bound to
 * a DPoP key when the request carries a proof), an ID token with `openid`, and a refresh token with
 * `offline_access` when the client may refresh.
 */
export function deviceCodeGrant(deps: DeviceCodeDeps): Grant<{ deviceCode: string }> {
  return {
    grantType: GRANT_TYPE_DEVICE_CODE,
    repeatable: new Set(),
    parse: (params) => ({ deviceCode: params.required('device_code') }),
    async handle({ client: { client }, request, now, dpopJkt }: GrantInput<{ deviceCode: string }>): Promise<GrantResult> {
      const poll = await deps.devices.pollDeviceAuthorization(hashSecret(request.deviceCode), client.clientId, now, SLOW_DOWN_STEP_SECONDS);
      // Another client's code is unknown to this one (and its poll was not recorded against the owner's interval).
      if (!poll || poll.record.clientId !== client.clientId) throw invalidGrant('device_code is invalid', poll ? 'device code of another client' : 'unknown device code');
      const { record } = poll;
      if (record.usedAt !== null) throw invalidGrant('device_code was already used', 'device code replayed');
      if (record.expiresAt <= now) throw new OAuthError('expired_token', 'the device_code has expired; start a new device authorization');
      if (record.status === 'denied') throw new OAuthError('access_denied', `the request was denied${record.reason ? `: ${record.reason}` : ''}`);
      if (record.status === 'pending') {
        if (poll.tooSoon) throw new OAuthError('slow_down', `poll at most every ${record.pollInterval + SLOW_DOWN_STEP_SECONDS} seconds`);
        throw new OAuthError('authorization_pending', 'the user has not yet entered the code and decided');
      }

      const user = record.userId === null ? null : await deps.users.getUser(record.userId);
      if (!user || user.status !== 'active') throw invalidGrant('the user who approved is no longer active');
      // Disabled (or reset) and enabled again since the confirmation: the confirmation went with it.
      const stale = decisionProblem({ user, client }, { requestedAt: record.createdAt, decidedAt: record.decidedAt });
      if (stale) throw invalidGrant(`the device authorization no longer stands: ${stale}`);
      const offline = record.scopes.includes('offline_access') && client.grantTypes.includes('refresh_token');
      const grant = {
        id: newId('grt'),
        userId: user.id,
        clientId: client.clientId,
        actorId: null,
        scopes: record.scopes,
        resources: record.resources,
        authTime: record.authTime ?? record.decidedAt ?? now,
        amr: record.amr ?? [],
        status: 'active' as const,
        createdAt: now,
        expiresAt: now + (offline ? deps.refreshTokenFamilyTtlSeconds : deps.maxAccessTokenTtlSeconds),
        revokedAt: null,
      };
      // The policies as they stand now (a scope denied since the approval refuses), then the code is used up.
      const maxLifetimeSeconds = await policyLimitedLifetime(record, { grant, user, client }, deps, now);
      if (!(await deps.devices.useDeviceAuthorization(record.id, now))) throw invalidGrant('device_code was already used', 'device code replayed (concurrent)');
      await deps.grants.createGrant(grant);
      const issued = await issueUserTokens({ grant, user, client, scopes: record.scopes, resources: record.resources, nonce: null, dpopJkt, maxLifetimeSeconds, now }, deps);
      return {
        response: issued.response,
        audit: {
          event: 'token.issued',
          actor: client.clientId,
          subject: user.id,
          clientId: client.clientId,
          detail: { grant_type: GRANT_TYPE_DEVICE_CODE, grant_id: grant.id, device_authorization: record.id, jti: issued.jti, scope: issued.response.scope ?? '', exp: issued.exp, refresh_hash: issued.refreshHash },
        },
        ...(issued.records ? { records: issued.records } : {}),
      };
    },
  };
}
