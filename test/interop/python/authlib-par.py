"""Authlib, a client nobody here wrote, pushes its authorization request (RFC 9126) authenticated with its own
private_key_jwt (RFC 7523; the assertion's audience is the PAR endpoint, as Authlib sets it to the URL it posts to),
sends the browser with client_id and request_uri only, then redeems the code with PKCE (S256) and private_key_jwt
again (audience: the token endpoint). Authlib 1.2 has no PAR function of its own: the push is its session's POST
with its client authentication.

Run by test/interop/python-authlib-par.test.ts with Debian's /usr/bin/python3. Input: one JSON argument
  {"issuer", "client_id", "private_key_pem", "redirect_uri", "scope", "resource"}
It prints one JSON line {"authorization_url": …, "pushed": {…}}, then reads one line from stdin: the URL the server
redirected the browser to. It then prints one JSON line with what it saw. Any exception escapes with a non-zero exit.
"""

import json
import sys
import time
from urllib.parse import urlencode

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge

TIMEOUT_SECONDS = 10


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's assertions live an hour by default; Mandate accepts at most tokens.clientAssertionMaxTtlSeconds (300)."""

    def sign(self, auth, token_endpoint):
        self.claims = {'exp': int(time.time()) + 60}
        return super().sign(auth, token_endpoint)


def main():
    given = json.loads(sys.argv[1])
    metadata = requests.get(given['issuer'] + '/.well-known/oauth-authorization-server', timeout=TIMEOUT_SECONDS).json()
    session = OAuth2Session(
        client_id=given['client_id'],
        client_secret=given['private_key_pem'],
        token_endpoint_auth_method='private_key_jwt',
        redirect_uri=given['redirect_uri'],
        scope=given['scope'],
    )
    # No fixed endpoint: the assertion names the URL it is sent to (the PAR endpoint, then the token endpoint).
    session.register_client_auth_method(ShortLivedPrivateKeyJWT(alg='ES256'))
    verifier = generate_token(64)
    state = generate_token(20)
    pushed = session.post(
        metadata['pushed_authorization_request_endpoint'],
        data={
            'response_type': 'code',
            'client_id': given['client_id'],
            'redirect_uri': given['redirect_uri'],
            'scope': given['scope'],
            'resource': given['resource'],
            'state': state,
            'code_challenge': create_s256_code_challenge(verifier),
            'code_challenge_method': 'S256',
        },
        withhold_token=True,
        auth=session.client_auth('private_key_jwt'),
        timeout=TIMEOUT_SECONDS,
    )
    body = pushed.json()
    if pushed.status_code != 201:
        raise SystemExit('PAR refused: %d %s' % (pushed.status_code, json.dumps(body)))
    url = metadata['authorization_endpoint'] + '?' + urlencode({'client_id': given['client_id'], 'request_uri': body['request_uri']})
    print(json.dumps({'authorization_url': url, 'pushed': {'status': pushed.status_code, 'body': body, 'cache_control': pushed.headers.get('cache-control')}}), flush=True)

    callback = sys.stdin.readline().strip()
    token = session.fetch_token(metadata['token_endpoint'], authorization_response=callback, state=state, code_verifier=verifier, timeout=TIMEOUT_SECONDS)
    print(json.dumps({'token': {name: token.get(name) for name in ('token_type', 'scope', 'expires_in')}, 'has_access_token': 'access_token' in token}), flush=True)


main()
