import { createHash } from 'node:crypto';
import { TOKEN_TYPE_ACCESS_TOKEN } from '@mandate/protocol';
import { type ExchangedToken, exchangedToken, tokenExchangeForm } from '../agent/token-exchange.ts';
import { requestToken } from '../agent/token-request.ts';
import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import type { DpopProver } from '../dpop/prover.ts';
import { MetadataInvalid } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';

/** Options of {@link createDownstreamExchanger}. */
export interface DownstreamExchangeOptions extends HttpOptions {
  /** The authorization server; its `token_endpoint` is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** This resource server's API key (`mrk_…`, from `mandate resource create`): its credential for the exchange. */
  apiKey: string;
  /** Milliseconds since the epoch; default `Date.now`. Decides when a cached token is too close to expiry. */
  clock?: () => number;
  /** A cached token is reused until this many seconds before it expires. Default 30. */
  reuseUntilSecondsBeforeExpiry?: number;
  /** At most this many cached tokens; the oldest goes first. Default 1000. */
  maxCachedTokens?: number;
  /** Binds each downstream token to this resource server's own DPoP key (RFC 9449); needed for a bound subject token. */
  dpop?: DpopProver;
}

/** What to exchange for: the token the caller sent this resource server, and the downstream it is for. */
export interface DownstreamExchangeRequest {
  /** The access token this resource server received (its audience is this resource server). */
  subjectToken: string;
  /** The downstream resource (RFC 8707), one this resource server is allowed to call on. */
  resource: string;
  /** At most the subject token's scopes; default: those of them the downstream defines. */
  scope?: string | readonly string[];
}

export interface DownstreamExchanger {
  /**
   * A token for `resource` on the subject's behalf, with this resource server appended to its `act` chain: from
   * the cache while it has more than `reuseUntilSecondsBeforeExpiry` left, else by RFC 8693 token exchange.
   * Refusals are `ERR_TOKEN_REQUEST_FAILED` with the server's `error` (`invalid_target`: not an allowed
   * downstream or outside the user's consent; `invalid_scope`: wider than the subject token; `invalid_request`:
   * the chain's policy, or a subject token not meant for this resource server).
   */
  exchangeForDownstream(request: DownstreamExchangeRequest): Promise<ExchangedToken>;
}

const list = (value: string | readonly string[] | undefined): string[] => (value === undefined ? [] : typeof value === 'string' ? value.split(' ').filter(Boolean) : [...value]);

/**
 * For an MCP server or gateway that calls another resource on the user's behalf (issue 11 item 2): exchanges the
 * token it received for one to the downstream, authenticated by its own API key, instead of passing the user's
 * token through (which the MCP authorization spec forbids). Tokens are cached per subject token, resource and
 * scope (by SHA-256, never the token itself as a key) until shortly before they expire.
 *
 * @example
 * const downstream = createDownstreamExchanger({ issuer, apiKey: process.env.MANDATE_RESOURCE_API_KEY! });
 * const { accessToken } = await downstream.exchangeForDownstream({ subjectToken: authInfo.token, resource: 'https://files.example.com/mcp' });
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export function createDownstreamExchanger(options: DownstreamExchangeOptions): DownstreamExchanger {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  assertIssuerIdentifier(options.issuer);
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('apiKey must be the resource server’s API key');
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const clock = options.clock ?? Date.now;
  const margin = options.reuseUntilSecondsBeforeExpiry ?? 30;
  const capacity = options.maxCachedTokens ?? 1000;
  const metadata = cachedMetadata(options.issuer, http);
  const authorization = `Bearer ${options.apiKey}`;
  const cache = new Map<string, ExchangedToken & { expiresAt: number }>();

  return {
    async exchangeForDownstream(request) {
      if (typeof request?.subjectToken !== 'string' || request.subjectToken === '') throw new TypeError('subjectToken must be a non-empty string');
      if (typeof request.resource !== 'string' || request.resource === '') throw new TypeError('resource must be the downstream resource URI');
      const scope = list(request.scope);
      const key = createHash('sha256').update(JSON.stringify([request.subjectToken, request.resource, scope])).digest('base64url');
      const now = Math.floor(clock() / 1000);
      const cached = cache.get(key);
      if (cached && cached.expiresAt - margin > now) return cached;
      cache.delete(key);

      const endpoint = (await metadata()).token_endpoint;
      if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('token_endpoint');
      const form = tokenExchangeForm({ subjectToken: request.subjectToken, subjectTokenType: TOKEN_TYPE_ACCESS_TOKEN }, undefined, { audience: [], resource: [request.resource], scope });
      const response = await requestToken(
        { issuer: options.issuer, endpoint, tokenEndpoint: endpoint },
        form,
        async (_form, headers) => headers.set('authorization', authorization),
        { ...http, clock, ...(options.dpop ? { dpop: options.dpop } : {}) },
      );
      const token = exchangedToken(response, scope);
      if (token.expiresAt !== undefined) {
        // Expired entries go first, then the oldest: the cache never holds more than `capacity` tokens.
        for (const [k, v] of cache) if (v.expiresAt - margin <= now) cache.delete(k);
        while (cache.size >= capacity) cache.delete(cache.keys().next().value!);
        cache.set(key, { ...token, expiresAt: token.expiresAt });
      }
      return token;
    },
  };
}
