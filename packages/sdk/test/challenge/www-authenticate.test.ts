import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authenticateRequest, insufficientScopeChallenge, rejectionFor } from '../../src/challenge/authenticate-request.ts';
import { extractBearerToken } from '../../src/challenge/extract-token.ts';
import { buildWwwAuthenticate } from '../../src/challenge/www-authenticate.ts';
import { InsufficientScope, MetadataFetchFailed, TokenExpired, TokenMissing } from '../../src/errors.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** What a 401 without credentials offers next to Bearer (RFC 9449 §7.1): the resource accepts DPoP. */
const DPOP_OFFER = `DPoP algs="${JWS_ALGORITHMS.join(' ')}"`;

describe('buildWwwAuthenticate (RFC 6750 §3)', () => {
  test('BR-01 no error parameter when no credentials were sent', () => {
    assert.equal(buildWwwAuthenticate({ resourceMetadata: 'https://h/.well-known/oauth-protected-resource/mcp' }), 'Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"');
    assert.equal(buildWwwAuthenticate({}), 'Bearer');
  });

  test('quoted-string traps: quotes and backslashes are escaped, CR/LF and non-ASCII dropped', () => {
    const value = buildWwwAuthenticate({ realm: 'a "b" \\c\r\nSet-Cookie: x=1 é' });
    assert.equal(value, 'Bearer realm="a \\"b\\" \\\\cSet-Cookie: x=1 "');
    assert.doesNotMatch(value, /[\r\n]/);
  });

  test('error_description may carry neither quote nor backslash, even escaped', () => {
    const value = buildWwwAuthenticate({ error: 'invalid_token', errorDescription: 'typ "JWT" is bad \\ really\n' });
    assert.equal(value, `Bearer error="invalid_token", error_description="typ 'JWT' is bad / really"`);
  });

  test('scope values must be scope-tokens (misuse → TypeError)', () => {
    assert.equal(buildWwwAuthenticate({ error: 'insufficient_scope', scope: ['a:b', 'c'] }), 'Bearer error="insufficient_scope", scope="a:b c"');
    assert.throws(() => buildWwwAuthenticate({ scope: ['a b'] }), TypeError);
    assert.throws(() => buildWwwAuthenticate({ scope: ['a"b'] }), TypeError);
  });
});

describe('rejectionFor', () => {
  const verifier = { audience: ['https://h.example/mcp'], verify: async () => { throw new Error('unused'); } };

  test('an authorization server that cannot be reached → 503 temporarily_unavailable, no challenge', () => {
    const rejection = rejectionFor(new MetadataFetchFailed('down'), { verifier });
    assert.equal(rejection.status, 503);
    assert.equal(rejection.headers['www-authenticate'], undefined);
    assert.equal(rejection.headers['retry-after'], '5');
    assert.deepEqual(rejection.body, { error: 'temporarily_unavailable', error_description: 'authorization server unavailable' });
  });

  test('RFC 9449 §7.1 a 401 without credentials offers DPoP with its algorithms next to Bearer; only DPoP when the resource takes DPoP-bound tokens only', () => {
    const both = rejectionFor(new TokenMissing(), { verifier: { ...verifier, dpopAlgorithms: ['ES256', 'EdDSA'] }, requiredScopes: ['calc'] });
    assert.equal(both.status, 401);
    assert.equal(both.headers['www-authenticate'], 'Bearer scope="calc", resource_metadata="https://h.example/.well-known/oauth-protected-resource/mcp", DPoP algs="ES256 EdDSA"');
    const dpopOnly = rejectionFor(new TokenMissing(), { verifier: { ...verifier, dpopAlgorithms: ['ES256'], dpopRequired: true }, requiredScopes: ['calc'] });
    assert.equal(dpopOnly.headers['www-authenticate'], 'DPoP scope="calc", resource_metadata="https://h.example/.well-known/oauth-protected-resource/mcp", algs="ES256"');
  });

  test('MCP-RS-05 offline_access is never named in a challenge scope', () => {
    const missing = rejectionFor(new TokenMissing(), { verifier, requiredScopes: ['files:read', 'offline_access'] });
    assert.equal(missing.headers['www-authenticate'], `Bearer scope="files:read", resource_metadata="https://h.example/.well-known/oauth-protected-resource/mcp", ${DPOP_OFFER}`);
    const scope = rejectionFor(new InsufficientScope(['offline_access', 'files:write'], ['files:write']), { verifier });
    assert.equal(scope.status, 403);
    assert.match(scope.headers['www-authenticate'] ?? '', /scope="files:write"/);
  });
});

describe('challenge scopes (MCP 2025-11-25 "Scope Selection Strategy", "Scope Challenge Handling")', () => {
  const verifier = { audience: ['https://h.example/mcp'], verify: async () => { throw new Error('unused'); } };
  const metadata = 'resource_metadata="https://h.example/.well-known/oauth-protected-resource/mcp"';

  test('MCP-RS-02 a 401 names challengeScopes (what a first call needs), with no token and with an invalid one; default requiredScopes', () => {
    const options = { verifier, requiredScopes: ['calc'], challengeScopes: ['calc', 'files:read'] };
    assert.equal(rejectionFor(new TokenMissing(), options).headers['www-authenticate'], `Bearer scope="calc files:read", ${metadata}, ${DPOP_OFFER}`);
    assert.equal(
      rejectionFor(new TokenExpired(), options).headers['www-authenticate'],
      `Bearer error="invalid_token", error_description="the token has expired", scope="calc files:read", ${metadata}`,
    );
    assert.equal(rejectionFor(new TokenMissing(), { verifier, requiredScopes: ['calc'] }).headers['www-authenticate'], `Bearer scope="calc", ${metadata}, ${DPOP_OFFER}`);
    assert.equal(rejectionFor(new TokenMissing(), { verifier }).headers['www-authenticate'], `Bearer ${metadata}, ${DPOP_OFFER}`);
  });

  test('MCP-RS-03 a 403 names the needed scopes, then the resource scopes already held, so that asking for exactly them keeps the grant', () => {
    const err = new InsufficientScope(['files:write'], ['files:write'], ['openid', 'email', 'offline_access', 'calc', 'files:read']);
    const rejection = rejectionFor(err, { verifier, challengeScopes: ['calc'] });
    assert.equal(rejection.status, 403);
    assert.equal(
      rejection.headers['www-authenticate'],
      `Bearer error="insufficient_scope", error_description="missing scope: files:write", scope="files:write calc files:read", ${metadata}`,
    );
    assert.deepEqual(insufficientScopeChallenge(['a', 'b'], ['b', 'c', 'profile']), ['a', 'b', 'c']);
  });
});

describe('extractBearerToken (RFC 6750 §2)', () => {
  const headers = (value?: string) => new Headers(value === undefined ? {} : { authorization: value });

  test('accepts a b64token, scheme case-insensitive', () => {
    assert.equal(extractBearerToken({ headers: headers('Bearer abc.DEF-_~+/=='), url: '/' }), 'abc.DEF-_~+/==');
    assert.equal(extractBearerToken({ headers: headers('bearer   abc'), url: '/' }), 'abc');
  });

  test('a malformed Bearer value → ERR_REQUEST_INVALID', () => {
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a"b', 'Bearer a, Bearer b']) {
      assert.throws(() => extractBearerToken({ headers: headers(value), url: '/' }), { code: 'ERR_REQUEST_INVALID' }, value);
    }
  });

  test('an encoded access_token query parameter is still found', () => {
    assert.throws(() => extractBearerToken({ headers: headers('Bearer a'), url: '/x?access%5Ftoken=a' }), { code: 'ERR_REQUEST_INVALID' });
  });

  test('authenticateRequest reads a fetch Request, form body included', async () => {
    const request = new Request('https://h.example/files', {
      method: 'POST',
      headers: { authorization: 'Bearer abc', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'access_token=abc',
    });
    const verifier = { audience: ['https://h.example/files'], verify: async () => { throw new Error('must not be reached'); } };
    const outcome = await authenticateRequest(request, { verifier });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok ? 0 : outcome.rejection.status, 400);
    assert.equal(await request.text(), 'access_token=abc'); // the body is still there for the handler
  });
});
