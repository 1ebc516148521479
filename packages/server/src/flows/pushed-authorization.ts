import { FormParams } from '../oauth/form-params.ts';
import { invalidRequest, OAuthError, type OAuthErrorCode } from '../oauth/oauth-error.ts';
import type { ClientRecord } from '../store/store.ts';
import type { PushedAuthorizationRecords } from '../store/pushed-authorization.ts';
import { generateSecret, hashSecret } from '../tokens/secret.ts';
import { type AuthorizationRequestDeps, parseAuthorizationRequest } from './authorization-request.ts';

/**
 * Pushed Authorization Requests (RFC 9126). `push`: the client, authenticated by the endpoint as at the token
 * endpoint, sends every authorization parameter in the back channel; they are validated exactly as the
 * authorization endpoint validates them (the same parser), kept under the SHA-256 of a random
 * `urn:ietf:params:oauth:request_uri:…` and answered with it and `expires_in`. `redeem`: the authorization endpoint
 * takes them back, once, for the same client, before they expire; the query's other parameters are ignored (§4).
 */

export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/** Client authentication travels in the form; it is never part of the kept request. */
const CLIENT_AUTHENTICATION_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type'];

export interface PushedAuthorizationDeps extends AuthorizationRequestDeps {
  records: PushedAuthorizationRecords;
  /** `expires_in` of every request_uri. */
  ttlSeconds: number;
  /** FAPI 2.0 Security Profile §5.3.2.2: the pushed request must name its `redirect_uri`. */
  redirectUriRequired: boolean;
}

export interface PushInput {
  client: ClientRecord;
  /** The request body (form-encoded), as received. */
  body: string;
  /** RFC 9449 §10.1: the thumbprint of the key of a valid DPoP proof sent with the request, if any. */
  proofJkt: string | undefined;
  now: number;
}

/** Who pushed a request, and when it was first pushed (a request kept again for the login page keeps that time). */
export interface PushedBy {
  clientId: string;
  pushedAt: number;
}

export type ResolvedRequest = { ok: true; query: string; pushedBy: PushedBy | null } | { ok: false; clientId: string | undefined; description: string };

export function pushedAuthorizationFlow(deps: PushedAuthorizationDeps) {
  /** Keeps `params` for `clientId` under a new request_uri until `expiresAt`. */
  async function keep(clientId: string, params: string, pushedAt: number, expiresAt: number): Promise<string> {
    const requestUri = `${REQUEST_URI_PREFIX}${generateSecret()}`;
    await deps.records.createPushedAuthorization({ uriHash: hashSecret(requestUri), clientId, params, createdAt: pushedAt, expiresAt });
    return requestUri;
  }

  return {
    async push({ client, body, proofJkt, now }: PushInput): Promise<{ request_uri: string; expires_in: number }> {
      const checked = new FormParams(body);
      checked.rejectRepeated(new Set(['resource']));
      // RFC 9126 §2.1: a request_uri cannot be pushed (no request by reference inside a pushed one).
      if (checked.has('request_uri')) throw invalidRequest('request_uri must not be sent to the pushed authorization request endpoint');
      const form = new URLSearchParams(body);
      for (const name of CLIENT_AUTHENTICATION_PARAMS) form.delete(name);
      const named = checked.get('client_id');
      if (named !== undefined && named !== client.clientId) throw invalidRequest('client_id does not match the authenticated client');
      form.set('client_id', client.clientId);
      if (deps.redirectUriRequired && !checked.has('redirect_uri')) throw invalidRequest('redirect_uri is required in a pushed authorization request (FAPI 2.0 mode)');
      // RFC 9449 §10.1: a DPoP proof here binds the code as dpop_jkt does; sent together, they must name one key.
      const stated = checked.get('dpop_jkt');
      if (proofJkt !== undefined) {
        if (stated !== undefined && stated !== proofJkt) throw invalidRequest('dpop_jkt does not match the key of the DPoP proof sent with this request');
        form.set('dpop_jkt', proofJkt);
      }
      const params = form.toString();
      const parsed = await parseAuthorizationRequest(params, deps, { pushed: true });
      // The authorization endpoint's errors, as JSON (§2.3): redirected ones keep their code, shown ones are invalid_request.
      if (!parsed.ok) throw new OAuthError(parsed.redirect ? (parsed.error as OAuthErrorCode) : 'invalid_request', parsed.description);
      const expiresAt = now + deps.ttlSeconds;
      return { request_uri: await keep(client.clientId, params, now, expiresAt), expires_in: deps.ttlSeconds };
    },

    /**
     * The authorization request to parse: the query itself, or, for `client_id` + `request_uri`, the parameters
     * that client pushed (taken now: single use) and who pushed them.
     */
    async resolve(query: string, now: number): Promise<ResolvedRequest> {
      if (!new URLSearchParams(query).has('request_uri')) return { ok: true, query, pushedBy: null };
      let clientId: string | undefined;
      let requestUri: string | undefined;
      try {
        const params = new FormParams(query);
        clientId = params.get('client_id');
        requestUri = params.get('request_uri');
      } catch (err) {
        return { ok: false, clientId: undefined, description: (err as Error).message };
      }
      if (!clientId) return { ok: false, clientId, description: 'client_id is required with request_uri (RFC 9126 §4)' };
      if (!requestUri?.startsWith(REQUEST_URI_PREFIX)) return { ok: false, clientId, description: `invalid_request_uri: request_uri must be one this server issued (${REQUEST_URI_PREFIX}…)` };
      const record = await deps.records.takePushedAuthorization(hashSecret(requestUri), clientId, now);
      if (!record) return { ok: false, clientId, description: 'invalid_request_uri: the request_uri is unknown, expired, already used, or was pushed by another client' };
      return { ok: true, query: record.params, pushedBy: { clientId, pushedAt: record.createdAt } };
    },

    /**
     * The query to come back with after the login page: `client_id` and a fresh request_uri for `params` (which may
     * drop what the login satisfies), so that each request_uri is still used once and the parameters never enter
     * the browser's URL. It lives `lifetimeSeconds` (a consent page's) from the first push: the browser came in
     * time and signing in may take a while, but coming back again and again never extends it.
     */
    async afterLogin(pushed: PushedBy, params: string, lifetimeSeconds: number): Promise<string> {
      const requestUri = await keep(pushed.clientId, params, pushed.pushedAt, pushed.pushedAt + lifetimeSeconds);
      return new URLSearchParams({ client_id: pushed.clientId, request_uri: requestUri }).toString();
    },
  };
}

export type PushedAuthorizationFlow = ReturnType<typeof pushedAuthorizationFlow>;
