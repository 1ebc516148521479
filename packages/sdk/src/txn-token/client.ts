import { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_TXN_TOKEN } from '@mandate/protocol';
import type { ClientAuthentication } from '../agent/client-authentication.ts';
import { requestToken } from '../agent/token-request.ts';
import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import { MetadataInvalid, TokenRequestFailed } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';

/** Options of {@link createTxnTokenClient}: the Transaction Token Service, the trust domain, and how this workload authenticates. */
export type TxnTokenClientOptions = HttpOptions & {
  /** The authorization server acting as the TTS; its `token_endpoint` is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** The trust domain, sent as `audience` (draft §6.1). */
  trustDomain: string;
  /** Milliseconds since the epoch; default `Date.now`. */
  clock?: () => number;
} & (
  | { /** A resource server's API key (`mrk_…`). */ apiKey: string; clientAuthentication?: never }
  | { /** An agent's client authentication: `clientSecretBasic(id, secret)`, `privateKeyJwt(id, key)`, … */ clientAuthentication: ClientAuthentication; apiKey?: never }
);

/** A Txn-Token request for a new transaction (draft §6.1). */
export interface TxnTokenRequest {
  /** An access token this workload holds: a gateway's inbound token, or an agent's own or delegated token. */
  subjectToken: string;
  /** The transaction's purpose: at most the subject token's scopes. */
  scope: string | readonly string[];
  /** Environmental context (`request_context`, e.g. `{ req_ip }` of the originating request), becomes `rctx`. */
  requestContext?: Record<string, unknown>;
  /** Authorization details (`request_details`, e.g. `{ action, ticker }`), becomes `tctx`. */
  requestDetails?: Record<string, unknown>;
}

/** A replacement of a Txn-Token this workload received (draft §9.12): narrower or the same, never wider. */
export interface TxnTokenReplacementRequest {
  txnToken: string;
  /** Default: the Txn-Token's scope. */
  scope?: string | readonly string[];
  /** A subset of the Txn-Token's `tctx` members with the same values; default: its `tctx`. */
  requestDetails?: Record<string, unknown>;
}

/** An issued Txn-Token: send it in the `Txn-Token` header, never in `Authorization`. */
export interface IssuedTxnToken {
  txnToken: string;
  scope: string[];
  /** Seconds since the epoch, when the server said. */
  expiresAt?: number;
}

export interface TxnTokenClient {
  /** Requests a Txn-Token for a new transaction. Refusals are `ERR_TOKEN_REQUEST_FAILED` with the server's `error`. */
  request(request: TxnTokenRequest): Promise<IssuedTxnToken>;
  /** Replaces a Txn-Token (same `txn`, `sub`, `aud`), e.g. narrowed for a downstream call; a wider one is `invalid_scope`. */
  replace(request: TxnTokenReplacementRequest): Promise<IssuedTxnToken>;
}

const scopeList = (scope: string | readonly string[] | undefined): string[] => (scope === undefined ? [] : typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [...scope]);

function jsonObject(name: string, value: Record<string, unknown> | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${name} must be a plain object`);
  return JSON.stringify(value);
}

/**
 * For a workload of the trust domain (an agent, or a resource server such as a gateway): requests Transaction Tokens
 * from Mandate's Transaction Token Service and replaces them (draft-ietf-oauth-transaction-tokens-10 §6), by RFC 8693
 * token exchange with `requested_token_type=urn:ietf:params:oauth:token-type:txn_token`. The workload must be
 * allowed Txn-Tokens (`mandate agent|resource txn-tokens … --allow`).
 *
 * @example
 * const tts = createTxnTokenClient({ issuer, trustDomain: 'trust-domain.example', apiKey: process.env.MANDATE_RESOURCE_API_KEY! });
 * const { txnToken } = await tts.request({ subjectToken: auth.token, scope: 'trade', requestDetails: { action: 'BUY' } });
 * await fetch(backendUrl, { headers: { 'txn-token': txnToken } });
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-transaction-tokens/
 */
export function createTxnTokenClient(options: TxnTokenClientOptions): TxnTokenClient {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  assertIssuerIdentifier(options.issuer);
  if (typeof options.trustDomain !== 'string' || options.trustDomain === '') throw new TypeError('trustDomain must be a non-empty string');
  let authenticate: ClientAuthentication;
  if (typeof options.apiKey === 'string' && options.apiKey !== '' && options.clientAuthentication === undefined) {
    const authorization = `Bearer ${options.apiKey}`;
    authenticate = async (_form, headers) => headers.set('authorization', authorization);
  } else if (typeof options.clientAuthentication === 'function' && options.apiKey === undefined) {
    authenticate = options.clientAuthentication;
  } else {
    throw new TypeError('give exactly one of apiKey (a resource server) and clientAuthentication (an agent)');
  }
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const clock = options.clock ?? Date.now;
  const metadata = cachedMetadata(options.issuer, http);

  async function send(form: URLSearchParams, requestedScope: string[]): Promise<IssuedTxnToken> {
    const endpoint = (await metadata()).token_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('token_endpoint');
    const response = await requestToken({ issuer: options.issuer, endpoint, tokenEndpoint: endpoint }, form, authenticate, { ...http, clock });
    if (response.issuedTokenType !== TOKEN_TYPE_TXN_TOKEN) {
      throw new TokenRequestFailed(`the token endpoint issued ${JSON.stringify(response.issuedTokenType)}, not a Txn-Token`, { status: 200 });
    }
    const issued: IssuedTxnToken = { txnToken: response.accessToken, scope: response.scope === undefined ? requestedScope : scopeList(response.scope) };
    if (response.expiresAt !== undefined) issued.expiresAt = response.expiresAt;
    return issued;
  }

  function baseForm(subjectToken: string, subjectTokenType: string, scope: string[], details: string | undefined): URLSearchParams {
    const form = new URLSearchParams({
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      requested_token_type: TOKEN_TYPE_TXN_TOKEN,
      audience: options.trustDomain,
      subject_token: subjectToken,
      subject_token_type: subjectTokenType,
    });
    if (scope.length > 0) form.set('scope', scope.join(' '));
    if (details !== undefined) form.set('request_details', details);
    return form;
  }

  return {
    async request(request) {
      if (typeof request?.subjectToken !== 'string' || request.subjectToken === '') throw new TypeError('subjectToken must be a non-empty string');
      const scope = scopeList(request.scope);
      if (scope.length === 0) throw new TypeError('scope is required: the purpose of the transaction');
      const form = baseForm(request.subjectToken, TOKEN_TYPE_ACCESS_TOKEN, scope, jsonObject('requestDetails', request.requestDetails));
      const context = jsonObject('requestContext', request.requestContext);
      if (context !== undefined) form.set('request_context', context);
      return send(form, scope);
    },
    async replace(request) {
      if (typeof request?.txnToken !== 'string' || request.txnToken === '') throw new TypeError('txnToken must be a non-empty string');
      const scope = scopeList(request.scope);
      return send(baseForm(request.txnToken, TOKEN_TYPE_TXN_TOKEN, scope, jsonObject('requestDetails', request.requestDetails)), scope);
    },
  };
}
