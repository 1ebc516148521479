import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bearerChallenge, parseWwwAuthenticate } from '../../src/discovery/parse-challenge.ts';
import { buildWwwAuthenticate } from '../../src/challenge/www-authenticate.ts';

describe('parseWwwAuthenticate (RFC 9110 §11.6.1)', () => {
  test('a Bearer challenge with quoted parameters, as our resource side writes it, round-trips', () => {
    const value = buildWwwAuthenticate({
      error: 'insufficient_scope',
      errorDescription: 'missing scope: files:write',
      scope: ['calc', 'files:write'],
      resourceMetadata: 'https://h.example/.well-known/oauth-protected-resource/mcp',
    });
    assert.deepEqual(parseWwwAuthenticate(value), [
      {
        scheme: 'bearer',
        params: {
          error: 'insufficient_scope',
          error_description: 'missing scope: files:write',
          scope: 'calc files:write',
          resource_metadata: 'https://h.example/.well-known/oauth-protected-resource/mcp',
        },
      },
    ]);
  });

  test('several challenges in one field, token and quoted values, case-insensitive scheme and names', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="x", BEARER Scope="a b", error=invalid_token, DPoP algs="ES256 EdDSA"'), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { scope: 'a b', error: 'invalid_token' } },
      { scheme: 'dpop', params: { algs: 'ES256 EdDSA' } },
    ]);
  });

  test('token68, a bare scheme, quoted-pairs and spaces around "="', () => {
    assert.deepEqual(parseWwwAuthenticate('Negotiate abc+/==, Bearer'), [
      { scheme: 'negotiate', params: {}, token68: 'abc+/==' },
      { scheme: 'bearer', params: {} },
    ]);
    assert.deepEqual(parseWwwAuthenticate('Bearer realm = "a\\"b\\\\c"'), [{ scheme: 'bearer', params: { realm: 'a"b\\c' } }]);
  });

  test('a malformed rest stops parsing but keeps what came before; the first of a repeated parameter wins', () => {
    assert.deepEqual(parseWwwAuthenticate('Bearer scope="a", scope="b", resource_metadata="unterminated'), [{ scheme: 'bearer', params: { scope: 'a' } }]);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.deepEqual(parseWwwAuthenticate('"quoted"'), []);
  });

  test('bearerChallenge: the Bearer challenge of repeated header fields (joined by ", "), scope split', () => {
    const headers = new Headers();
    headers.append('www-authenticate', 'Basic realm="api"');
    headers.append('www-authenticate', 'Bearer resource_metadata="https://h/.well-known/oauth-protected-resource", scope="calc files:read"');
    assert.deepEqual(bearerChallenge(headers), { resourceMetadata: 'https://h/.well-known/oauth-protected-resource', scope: ['calc', 'files:read'] });
    assert.equal(bearerChallenge(new Headers({ 'www-authenticate': 'Basic realm="x"' })), undefined);
    assert.equal(bearerChallenge(new Headers()), undefined);
  });
});
