/** A challenge of a `WWW-Authenticate` field (RFC 9110 §11.6.1): its scheme and its parameters or token68. */
export interface AuthChallenge {
  /** The auth-scheme, lower-cased (schemes are case-insensitive, RFC 9110 §11.1). */
  scheme: string;
  /** auth-params by lower-cased name; a quoted-string is unquoted. The first of a repeated name is kept. */
  params: Record<string, string>;
  /** The token68 form (e.g. `Basic abc=`), when the challenge has one instead of parameters. */
  token68?: string;
}

/** What a client acts on in a `Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1). */
export interface BearerChallengeParams {
  /** RFC 9728 §5.1 `resource_metadata`: where the resource's metadata is. */
  resourceMetadata?: string;
  /** RFC 6750 §3 `scope`, split on spaces: the scopes the resource wants. */
  scope?: string[];
  /** `invalid_request`, `invalid_token`, `insufficient_scope`, … ; absent when no credentials were sent. */
  error?: string;
  errorDescription?: string;
}

// RFC 9110 §5.6.2: tchar.
const tokenChar = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
// RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const token68Pattern = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses a `WWW-Authenticate` field value into its challenges (RFC 9110 §11.6.1). The grammar lets challenges and
 * their parameters both be comma-separated, so a name followed by `=` continues the current challenge and a bare
 * token starts the next one. Parsing stops at the first malformed part; the challenges before it are returned, so
 * a server's typo never hides a well-formed `Bearer` challenge that came first.
 *
 * @example
 * parseWwwAuthenticate('Bearer error="insufficient_scope", scope="files:write", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"');
 * // [{ scheme: 'bearer', params: { error: 'insufficient_scope', scope: 'files:write', resource_metadata: 'https://h/…' } }]
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1
 */
export function parseWwwAuthenticate(value: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let pos = 0;
  const skip = (chars: string) => {
    while (pos < value.length && chars.includes(value[pos]!)) pos++;
  };
  const readToken = (): string => {
    const start = pos;
    while (pos < value.length && tokenChar.test(value[pos]!)) pos++;
    return value.slice(start, pos);
  };
  // RFC 9110 §5.6.4: quoted-string with backslash quoted-pairs; undefined when unterminated.
  const readQuoted = (): string | undefined => {
    let out = '';
    for (pos++; pos < value.length; pos++) {
      if (value[pos] === '"') {
        pos++;
        return out;
      }
      if (value[pos] === '\\') pos++;
      if (pos < value.length) out += value[pos];
    }
    return undefined;
  };
  // auth-param = token BWS "=" BWS ( token / quoted-string ); false (position unspecified) when it is not one.
  const readParam = (challenge: AuthChallenge): boolean => {
    const name = readToken();
    skip(' \t');
    if (name === '' || value[pos] !== '=') return false;
    pos++;
    skip(' \t');
    const paramValue = value[pos] === '"' ? readQuoted() : readToken() || undefined;
    if (paramValue === undefined) return false;
    const key = name.toLowerCase();
    if (!(key in challenge.params)) challenge.params[key] = paramValue;
    return true;
  };
  // True when the text at the position is `token BWS "="`: a parameter follows, not the next challenge.
  const paramAhead = (): boolean => {
    const mark = pos;
    const name = readToken();
    skip(' \t');
    const ahead = name !== '' && value[pos] === '=';
    pos = mark;
    return ahead;
  };

  for (;;) {
    skip(' \t,');
    if (pos >= value.length) return challenges;
    const scheme = readToken();
    if (scheme === '' || (pos < value.length && !' \t,'.includes(value[pos]!))) return challenges;
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skip(' \t');
    if (pos >= value.length || value[pos] === ',') continue;
    const start = pos;
    if (!readParam(challenge)) {
      pos = start;
      const t68 = token68Pattern.exec(value.slice(pos))?.[0];
      if (t68 === undefined) return challenges;
      pos += t68.length;
      skip(' \t');
      if (pos < value.length && value[pos] !== ',') return challenges;
      challenge.token68 = t68;
      continue;
    }
    for (;;) {
      skip(' \t');
      if (pos >= value.length) return challenges;
      if (value[pos] !== ',') return challenges;
      skip(' \t,');
      if (!paramAhead()) break;
      if (!readParam(challenge)) return challenges;
    }
  }
}

/**
 * The `Bearer` challenge of a response's `WWW-Authenticate` fields (RFC 6750 §3), if there is one. Fields of a
 * repeated header arrive joined by `, ` in fetch's `Headers`, which the grammar allows.
 *
 * @example
 * const challenge = bearerChallenge(response.headers);
 * challenge?.resourceMetadata; // 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function bearerChallenge(headers: Pick<Headers, 'get'>): BearerChallengeParams | undefined {
  const value = headers.get('www-authenticate');
  if (value === null) return undefined;
  const bearer = parseWwwAuthenticate(value).find((c) => c.scheme === 'bearer');
  if (bearer === undefined) return undefined;
  const { params } = bearer;
  const result: BearerChallengeParams = {};
  if (params['resource_metadata'] !== undefined) result.resourceMetadata = params['resource_metadata'];
  if (params['scope'] !== undefined) result.scope = params['scope'].split(' ').filter((s) => s !== '');
  if (params['error'] !== undefined) result.error = params['error'];
  if (params['error_description'] !== undefined) result.errorDescription = params['error_description'];
  return result;
}
