import type { MandateConfig } from '../config.ts';
import { CLIENT_ASSERTION_ALGS } from '../oauth/client-jwks.ts';
import { OAuthError } from '../oauth/oauth-error.ts';

/**
 * RFC 7591 §2.3 software statements: a JWT of client metadata signed by a party the operator trusts
 * (`registration.softwareStatementIssuers`). Verified: the compact JWS form; `iss` names a configured issuer; the
 * signature, by one of that issuer's keys with an asymmetric algorithm of ours; `exp` and `nbf` when present (the
 * injected clock, 60 s of skew). Its metadata members then take precedence over the request's (§3.1.1). Not verified:
 * `aud` (statements are usually issued once for every server) and anything about who presents it: a statement is a
 * signed description of software, not a credential.
 */

export type SoftwareStatementIssuers = MandateConfig['registration']['softwareStatementIssuers'];

/** JWT claims that describe the statement itself, not the client. */
const JWT_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

const invalid = (description: string) => new OAuthError('invalid_software_statement', description);
const unapproved = (description: string) => new OAuthError('unapproved_software_statement', description);

/** The request's metadata with a statement's applied over it, and the statement's issuer; unchanged when none was sent. */
export async function applySoftwareStatement(
  body: unknown,
  issuers: SoftwareStatementIssuers,
  now: number,
): Promise<{ metadata: unknown; issuer: string | null }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('software_statement' in body)) return { metadata: body, issuer: null };
  const { software_statement: statement, ...rest } = body as Record<string, unknown>;
  if (typeof statement !== 'string') throw invalid('software_statement must be a JWT');
  // Loaded at the first software statement: most deployments never see one (idle memory).
  const { createLocalJWKSet, decodeJwt, errors: joseErrors, jwtVerify } = await import('jose');
  let claimedIssuer: unknown;
  try {
    claimedIssuer = decodeJwt(statement).iss;
  } catch {
    throw invalid('software_statement is not a JWT');
  }
  const trusted = issuers.find((entry) => entry.issuer === claimedIssuer);
  if (!trusted) throw unapproved(typeof claimedIssuer === 'string' ? `software statements of ${claimedIssuer} are not accepted` : 'the software statement names no issuer');
  try {
    const { payload } = await jwtVerify(statement, createLocalJWKSet(trusted.jwks as Parameters<typeof createLocalJWKSet>[0]), {
      issuer: trusted.issuer,
      algorithms: [...CLIENT_ASSERTION_ALGS],
      currentDate: new Date(now * 1000),
      clockTolerance: 60,
    });
    const claims = Object.fromEntries(Object.entries(payload).filter(([name]) => !JWT_CLAIMS.has(name)));
    return { metadata: { ...rest, ...claims }, issuer: trusted.issuer };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalid('the software statement has expired');
    if (err instanceof joseErrors.JOSEError) throw invalid(`the software statement does not verify (${err.code})`);
    throw err;
  }
}
