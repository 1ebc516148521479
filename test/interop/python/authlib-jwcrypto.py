"""Python clients nobody here wrote, against a running Mandate: authlib does RFC 8414 discovery, client_credentials
with client_secret_basic and client_secret_post, RFC 7662 introspection and RFC 7009 revocation; jwcrypto verifies
the RFC 9068 access tokens against the server's JWKS.

Run by test/interop/python-authlib.test.ts with Debian's /usr/bin/python3 (python3-authlib, python3-jwcrypto,
python3-requests). Input: one JSON argument
  {"issuer", "client_id", "client_secret", "resource", "scope", "alg", "earlier_tokens": [{"token", "alg"}]}
Output: one JSON object on stdout with what each library saw; the TypeScript test asserts on it. Any exception
escapes with a traceback and a non-zero exit, which the test reports.
"""

import importlib.metadata
import json
import sys

import authlib
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from jwcrypto import jwk, jws, jwt

TIMEOUT_SECONDS = 10


def fetch_metadata(issuer):
    """RFC 8414 §3: the metadata lives at the well-known URL; authlib's model validates every registered field."""
    response = requests.get(issuer + '/.well-known/oauth-authorization-server', timeout=TIMEOUT_SECONDS)
    metadata = AuthorizationServerMetadata(response.json())
    try:
        metadata.validate()
        validation_error = None
    except ValueError as error:
        validation_error = str(error)
    return metadata, {
        'status': response.status_code,
        'content_type': response.headers.get('content-type'),
        'issuer': metadata.get('issuer'),
        'validation_error': validation_error,
    }


def record_client_authentication(log):
    """A requests hook that notes how each call authenticated, so the test sees the method on the wire."""

    def hook(response, *args, **kwargs):
        request = response.request
        body = request.body or ''
        if isinstance(body, bytes):
            body = body.decode()
        log.append({
            'url': request.url,
            'status': response.status_code,
            'basic': request.headers.get('Authorization', '').startswith('Basic '),
            'secret_in_body': 'client_secret=' in body,
        })
        return response

    return hook


def verify_access_token(token, jwks, issuer, resource, alg):
    """RFC 9068 §4: check the signature with the key the header names, `typ` at+jwt, then iss, aud and exp."""
    verified = jwt.JWT(jwt=token, key=jwks, algs=[alg], check_claims={'iss': issuer, 'aud': resource, 'exp': None})
    header = json.loads(verified.header)
    claims = json.loads(verified.claims)
    return {'header': header, 'claims': claims}


def signature_rejected(token, jwks, alg):
    """A token with one signature byte changed must fail: proves jwcrypto really checked the signature above."""
    head, payload, signature = token.split('.')
    flipped = ('A' if signature[0] != 'A' else 'B') + signature[1:]
    try:
        jwt.JWT(jwt='.'.join([head, payload, flipped]), key=jwks, algs=[alg])
        return False
    except jws.InvalidJWSSignature:
        return True


def run_client(method, metadata, jwks, params):
    log = []
    session = OAuth2Session(
        params['client_id'],
        params['client_secret'],
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        scope=params['scope'],
    )
    session.hooks['response'].append(record_client_authentication(log))
    token = session.fetch_token(
        metadata['token_endpoint'], grant_type='client_credentials', resource=params['resource'], timeout=TIMEOUT_SECONDS,
    )
    access_token = token['access_token']
    # authlib's introspect_token and revoke_token authenticate with revocation_endpoint_auth_method.
    introspected = session.introspect_token(metadata['introspection_endpoint'], token=access_token, timeout=TIMEOUT_SECONDS)
    revoked = session.revoke_token(
        metadata['revocation_endpoint'], token=access_token, token_type_hint='access_token', timeout=TIMEOUT_SECONDS,
    )
    after = session.introspect_token(metadata['introspection_endpoint'], token=access_token, timeout=TIMEOUT_SECONDS)
    return {
        'access_token': access_token,
        'token': {key: token.get(key) for key in ('token_type', 'scope', 'expires_in')},
        'introspection': introspected.json(),
        'introspection_status': introspected.status_code,
        'revocation_status': revoked.status_code,
        'introspection_after_revocation': after.json(),
        'calls': log,
        'jwt': verify_access_token(access_token, jwks, params['issuer'], params['resource'], params['alg']),
        'tampered_signature_rejected': signature_rejected(access_token, jwks, params['alg']),
    }


def main():
    params = json.loads(sys.argv[1])
    metadata, metadata_result = fetch_metadata(params['issuer'])
    jwks_response = requests.get(metadata['jwks_uri'], timeout=TIMEOUT_SECONDS)
    jwks = jwk.JWKSet.from_json(jwks_response.text)
    result = {
        'versions': {'authlib': authlib.__version__, 'jwcrypto': importlib.metadata.version('jwcrypto')},
        'metadata': metadata_result,
        'jwks': [{'kid': key.get('kid'), 'kty': key.get('kty'), 'crv': key.get('crv'), 'alg': key.get('alg')} for key in jwks],
        'methods': {},
        'earlier_tokens': [],
    }
    for method in ('client_secret_basic', 'client_secret_post'):
        result['methods'][method] = run_client(method, metadata, jwks, params)
    # Tokens signed before a key rotation: the retired key must still be published and still verify them.
    for earlier in params.get('earlier_tokens', []):
        verified = jwt.JWT(jwt=earlier['token'], key=jwks, algs=[earlier['alg']])
        result['earlier_tokens'].append({'header': json.loads(verified.header)})
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
