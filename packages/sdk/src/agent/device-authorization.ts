import { GRANT_TYPE_DEVICE_CODE } from '@mandate/protocol';
import { MetadataInvalid, TokenRequestFailed } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { AuthenticationTarget, ClientAuthentication } from './client-authentication.ts';
import { requestToken } from './token-request.ts';
import type { TokenRequestOptions, TokenResponse } from './token-request.ts';

/** What the device asks for (RFC 8628 §3.1). */
export interface DeviceAuthorizationRequest {
  scope?: string | string[];
  /** RFC 8707 resources the token is for. */
  resource?: string | string[];
}

/**
 * A device authorization waiting for a person (RFC 8628 §3.2): show them `userCode` and `verificationUri` (or
 * `verificationUriComplete`, say as a QR code), then `await waitForTokens()`.
 */
export interface DeviceAuthorization {
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | undefined;
  /** Seconds since the epoch (the client's clock) after which the code is no longer valid. */
  expiresAt: number;
  /** Seconds between polls, as the server asked; it grows by 5 after each `slow_down` (§3.5). */
  readonly interval: number;
  /**
   * Polls the token endpoint (§3.4) every `interval` seconds through the client's `sleep`, until the person decides.
   * Resolves with the tokens once approved; rejects with {@link TokenRequestFailed} (`error` `access_denied`,
   * `expired_token`, …), or with the signal's reason when `signal` aborts.
   */
  waitForTokens(options?: { signal?: AbortSignal }): Promise<TokenResponse>;
}

export interface DeviceAuthorizationDeps {
  issuer: string;
  deviceAuthorizationEndpoint: string | undefined;
  tokenEndpoint: string | undefined;
  authenticate: ClientAuthentication;
  http: TokenRequestOptions;
  /** Waits `ms` milliseconds (the client's scheduler; tests inject one so no real time passes). */
  sleep: (ms: number) => Promise<void>;
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : typeof value === 'string' ? value.split(' ') : value).filter((v) => v !== '');

/** Resolves after `ms` on the injected scheduler, or rejects as soon as `signal` aborts. */
function pause(ms: number, sleep: (ms: number) => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return sleep(ms);
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    sleep(ms).then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** §3.1: asks for the codes; §3.4–3.5: the returned object polls for the tokens. */
export async function startDeviceAuthorization(request: DeviceAuthorizationRequest, deps: DeviceAuthorizationDeps): Promise<DeviceAuthorization> {
  if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
  if (deps.deviceAuthorizationEndpoint === undefined || deps.tokenEndpoint === undefined) throw new MetadataInvalid('device_authorization_endpoint');
  const form = new URLSearchParams();
  const scopes = list(request.scope);
  if (scopes.length > 0) form.set('scope', scopes.join(' '));
  for (const resource of list(request.resource)) form.append('resource', resource);

  const endpoint = deps.deviceAuthorizationEndpoint;
  const target: AuthenticationTarget = { issuer: deps.issuer, endpoint, tokenEndpoint: deps.tokenEndpoint };
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  await deps.authenticate(form, headers, target);
  let answer;
  try {
    answer = await fetchJson(endpoint, { method: 'POST', headers, body: form.toString() }, deps.http);
  } catch (cause) {
    throw new TokenRequestFailed(`could not reach ${endpoint}`, { status: 0, cause });
  }
  const body = answer.json;
  const valid =
    answer.status === 200 &&
    isJsonObject(body) &&
    typeof body['device_code'] === 'string' &&
    typeof body['user_code'] === 'string' &&
    typeof body['verification_uri'] === 'string' &&
    typeof body['expires_in'] === 'number';
  if (!valid) {
    const error = isJsonObject(body) && typeof body['error'] === 'string' ? body['error'] : undefined;
    const errorDescription = isJsonObject(body) && typeof body['error_description'] === 'string' ? body['error_description'] : undefined;
    throw new TokenRequestFailed(`the device authorization request was refused${error ? `: ${error}` : ''}`, {
      status: answer.status,
      ...(error ? { error } : {}),
      ...(errorDescription ? { errorDescription } : {}),
    });
  }
  const deviceCode = body['device_code'] as string;
  // §3.2: 5 seconds when the server does not say.
  let interval = typeof body['interval'] === 'number' && body['interval'] > 0 ? body['interval'] : 5;
  const complete = body['verification_uri_complete'];
  const tokenTarget = { issuer: deps.issuer, endpoint: deps.tokenEndpoint, tokenEndpoint: deps.tokenEndpoint };

  return {
    userCode: body['user_code'] as string,
    verificationUri: body['verification_uri'] as string,
    verificationUriComplete: typeof complete === 'string' ? complete : undefined,
    expiresAt: Math.floor(deps.http.clock() / 1000) + (body['expires_in'] as number),
    get interval() {
      return interval;
    },
    async waitForTokens(options = {}) {
      for (;;) {
        await pause(interval * 1000, deps.sleep, options.signal);
        try {
          return await requestToken(tokenTarget, new URLSearchParams({ grant_type: GRANT_TYPE_DEVICE_CODE, device_code: deviceCode }), deps.authenticate, deps.http);
        } catch (err) {
          if (!(err instanceof TokenRequestFailed)) throw err;
          if (err.error === 'authorization_pending') continue;
          // §3.5: the client MUST add 5 seconds to its interval for this and all later requests.
          if (err.error === 'slow_down') {
            interval += 5;
            continue;
          }
          throw err;
        }
      }
    },
  };
}
