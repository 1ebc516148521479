import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../oauth/oauth-error.ts';
import { findUnstorable, unstorableText } from '../store/storable-text.ts';
import { messagePage } from '../ui/layout.ts';
import { PAGE_CSP } from './browser-guard.ts';
import { Problem } from './problem.ts';

/**
 * Refuses, before any handler or guard runs, a request carrying text the store cannot hold: a NUL character (which
 * no OAuth parameter's syntax admits, RFC 6749 Appendix A, and which PostgreSQL text cannot hold) or an unpaired
 * surrogate (not Unicode; a JSON body can spell one as `\ud800`). Everywhere input arrives: path parameters (admin
 * ids), the query (`/authorize`, admin filters), form bodies (OAuth endpoints, login and consent forms) and JSON
 * bodies (admin API, passkeys). The answer is 400 in the route's format: RFC 6749 `invalid_request` on OAuth
 * endpoints, problem+json on the admin API and JSON calls, an error page for a browser. Credentials decoded from
 * headers (Basic) are checked where they are decoded (`oauth/client-authentication.ts`), and the store refuses such
 * text again (`StoreInputError`), so a path this guard does not know still answers 400, never 500.
 */

/**
 * The one parameter a browser page takes with any text: `return_to` on the login pages is never stored or shown as
 * given (`safeReturnTo` makes it a clean path below the issuer, or the account page), so a NUL in it sends a correct
 * login to the default page instead of failing the login (SR-19).
 */
const REPAIRED_ON_PAGES = 'return_to';

interface Found {
  where: string;
  problem: string;
}

function inEntries(entries: Iterable<[string, string]>, what: string, skip?: string): Found | null {
  for (const [name, value] of entries) {
    const inName = unstorableText(name);
    if (inName) return { where: `a ${what} name`, problem: inName };
    if (name === skip) continue;
    const inValue = unstorableText(value);
    if (inValue) return { where: `${what} ${name}`, problem: inValue };
  }
  return null;
}

const skipped = (request: FastifyRequest) => (request.routeOptions.config?.access === 'browser' ? REPAIRED_ON_PAGES : undefined);

function inUrl(request: FastifyRequest): Found | null {
  const skip = skipped(request);
  const params = (request.params ?? {}) as Record<string, unknown>;
  const inParams = inEntries(Object.entries(params).map(([name, value]) => [name, String(value)]), 'path parameter');
  if (inParams) return inParams;
  const q = request.url.indexOf('?');
  // Handlers read the query as URLSearchParams does (`rawQuery`), Fastify's parser differently: check both views.
  if (q >= 0) {
    const inQuery = inEntries(new URLSearchParams(request.url.slice(q + 1)), 'query parameter', skip);
    if (inQuery) return inQuery;
  }
  const query = request.query;
  const parsed = findUnstorable(skip && query && typeof query === 'object' ? { ...query, [skip]: undefined } : query);
  return parsed ? { where: `query parameter ${parsed.path}`, problem: parsed.problem } : null;
}

function inBody(request: FastifyRequest): Found | null {
  const body = request.body;
  if (typeof body === 'string') {
    const raw = unstorableText(body);
    if (raw) return { where: 'the body', problem: raw };
    // Decoding adds a NUL only where the raw body spells %00, and never a lone surrogate (malformed UTF-8 decodes to
    // U+FFFD): without a %00, the decoded form is as storable as the raw body, so it is not parsed a second time.
    if (!body.includes('%00')) return null;
    return inEntries(new URLSearchParams(body), 'form parameter', skipped(request));
  }
  const skip = skipped(request);
  const found = findUnstorable(skip && body && typeof body === 'object' && !Array.isArray(body) ? { ...body, [skip]: undefined } : body);
  return found ? { where: found.path ? `the JSON body at ${found.path}` : 'the JSON body', problem: found.problem } : null;
}

function refuse(request: FastifyRequest, reply: FastifyReply, found: Found, base: string): FastifyReply | void {
  const description = `the request contains ${found.problem} in ${found.where}`;
  const config = request.routeOptions.config;
  const wantsJson = /json/i.test(String(request.headers['content-type'] ?? '')) || /json/i.test(String(request.headers['accept'] ?? ''));
  if (config?.access === 'browser' && !wantsJson) {
    // Nothing of the request is trusted yet (not even its client or redirect URI), so it is shown, never redirected.
    return reply
      .code(400)
      .header('content-security-policy', PAGE_CSP)
      .header('x-frame-options', 'DENY')
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(messagePage(base, 'This request cannot be completed', `The request is malformed: ${description}.`));
  }
  if (config?.errorFormat === 'oauth') throw new OAuthError('invalid_request', description);
  throw new Problem('invalid-request', description, [{ path: found.where, message: `contains ${found.problem}` }]);
}

/** The two global hooks: the URL before any route hook (the admin guard reads the store), the body once parsed. */
export function inputGuardHooks(issuer: string) {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
  return {
    async onRequest(request: FastifyRequest, reply: FastifyReply) {
      const found = inUrl(request);
      if (found) return refuse(request, reply, found, base);
    },
    async preValidation(request: FastifyRequest, reply: FastifyReply) {
      const found = inBody(request);
      if (found) return refuse(request, reply, found, base);
    },
  };
}
