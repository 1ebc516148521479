"""Authlib, a client nobody here wrote, runs the authorization code flow with PKCE (S256) as a public client against
a running Mandate, with NO `resource` parameter (as Authlib sends it by default), then calls /userinfo with the
access token; jwcrypto verifies the ID token against the server's JWKS.

Run by test/interop/python-authlib-code-flow.test.ts with Debian's /usr/bin/python3. Input: one JSON argument
  {"issuer", "client_id", "redirect_uri", "scope"}
It prints one JSON line {"authorization_url": …}, then reads one line from stdin: the URL the server redirected the
browser to (the test plays the browser: login and consent through the real pages). It then prints one JSON line with
what it saw. Any exception escapes with a traceback and a non-zero exit, which the test reports.
"""

import json
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from jwcrypto import jwk, jwt

TIMEOUT_SECONDS = 10


def main():
    given = json.loads(sys.argv[1])
    metadata = AuthorizationServerMetadata(requests.get(given['issuer'] + '/.well-known/openid-configuration', timeout=TIMEOUT_SECONDS).json())
    metadata.validate()

    session = OAuth2Session(
        client_id=given['client_id'],
        redirect_uri=given['redirect_uri'],
        scope=given['scope'],
        code_challenge_method='S256',
        token_endpoint_auth_method='none',
    )
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = session.create_authorization_url(metadata['authorization_endpoint'], code_verifier=verifier, nonce=nonce)
    print(json.dumps({'authorization_url': url}), flush=True)

    callback = sys.stdin.readline().strip()
    token = session.fetch_token(metadata['token_endpoint'], authorization_response=callback, state=state, code_verifier=verifier, timeout=TIMEOUT_SECONDS)

    userinfo = session.get(metadata['userinfo_endpoint'], timeout=TIMEOUT_SECONDS)
    jwks = jwk.JWKSet.from_json(requests.get(metadata['jwks_uri'], timeout=TIMEOUT_SECONDS).text)
    id_token = jwt.JWT(jwt=token['id_token'], key=jwks, check_claims={'iss': given['issuer'], 'aud': given['client_id'], 'exp': None, 'nonce': nonce})
    print(json.dumps({
        'token': {name: token.get(name) for name in ('token_type', 'scope', 'expires_in')},
        'has_refresh_token': 'refresh_token' in token,
        'userinfo_status': userinfo.status_code,
        'userinfo': userinfo.json(),
        'id_token_claims': json.loads(id_token.claims),
    }), flush=True)


main()
