import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UserinfoFlow, UserinfoResult } from '../flows/userinfo.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import { authorizationHeader } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { accessTokenCredential } from '../oauth/bearer-token.ts';
import { DPOP_ALGORITHMS, type DpopDeps, dpopNonceHeader } from '../oauth/dpop.ts';
import { sendNoStoreJson } from './oauth-response.ts';

type ChallengeError = Exclude<UserinfoResult, { ok: true }>['error'] | 'invalid_request';

/** RFC 6750 §3.1 and RFC 9449 §7.1: 400 for a malformed request, 401 for a missing or bad token or proof, 403 for one without the scope. */
const STATUS: Record<ChallengeError, number> = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403, invalid_dpop_proof: 401, use_dpop_nonce: 401 };

const DPOP_ALGS = `algs="${DPOP_ALGORITHMS.join(' ')}"`;

/**
 * HTTP face of `flows/userinfo.ts` (OIDC Core §5.3), on GET and POST. The token is taken from the Authorization
 * header only, as `Bearer` or `DPoP` (with its proof in the `DPoP` header); every refusal is an RFC 6750 §3 /
 * RFC 9449 §7.1 challenge: without credentials both schemes are offered, after a presented token the scheme it
 * should have used answers.
 */
export function userinfoEndpoints(userinfo: UserinfoFlow, dpop: Pick<DpopDeps, 'nonces'>, now: () => number): RouteDefinition[] {
  const challenge = (reply: FastifyReply, scheme: 'Bearer' | 'DPoP' | 'both', error?: ChallengeError, description?: string) => {
    const params = [...(error ? [`error="${error}"`] : []), ...(description ? [`error_description="${description.replace(/["\\]/g, "'")}"`] : [])];
    const bearer = `Bearer ${[`realm="mandate"`, ...params].join(', ')}`;
    const dpopChallenge = `DPoP ${[...params, DPOP_ALGS].join(', ')}`;
    const value = scheme === 'both' ? `${bearer}, ${dpopChallenge}` : scheme === 'Bearer' ? bearer : dpopChallenge;
    return reply
      .code(error ? STATUS[error] : 401)
      .header('www-authenticate', value)
      .headers(error === 'use_dpop_nonce' ? dpopNonceHeader(dpop, now()) : {})
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(error ? { error, ...(description ? { error_description: description } : {}) } : {}));
  };

  async function handler(request: FastifyRequest, reply: FastifyReply) {
    let credential: ReturnType<typeof accessTokenCredential>;
    try {
      credential = accessTokenCredential(authorizationHeader(request));
    } catch {
      return challenge(reply, 'both', 'invalid_request', 'only one Authorization header is allowed');
    }
    if (!credential) return challenge(reply, 'both');
    const proof = request.headers.dpop;
    const method = request.method === 'POST' ? 'POST' : 'GET';
    const result = await userinfo({ ...credential, proof: proof === undefined ? undefined : [proof].flat().join(', '), method, now: now() });
    if (result.ok) return sendNoStoreJson(reply, 200, result.claims);
    // A bound token sent as Bearer is told to use DPoP; everything about a proof answers in the DPoP scheme.
    const dpopAnswer = credential.scheme === 'DPoP' || result.dpopBound === true;
    return challenge(reply, dpopAnswer ? 'DPoP' : 'Bearer', result.error, result.description);
  }

  // CORS (RFC 9449 §8): a browser-based relying party reads its challenges and DPoP nonces; the token comes in the
  // Authorization header, never a cookie, so another origin learns nothing it did not send.
  return [
    { method: 'GET', url: userEndpointPaths.userinfo, access: 'oauth', errorFormat: 'oauth', cors: true, handler },
    { method: 'POST', url: userEndpointPaths.userinfo, access: 'oauth', errorFormat: 'oauth', cors: true, handler },
  ];
}
