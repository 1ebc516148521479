/** The credential of `Authorization: Bearer <credential>` (RFC 6750 §2.1), or undefined. */
export function bearerCredential(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization.trim());
  return match ? match[1] : undefined;
}

/** An access token as presented in `Authorization`: `Bearer` (RFC 6750 §2.1) or `DPoP` (RFC 9449 §7.1), or undefined. */
export function accessTokenCredential(authorization: string | undefined): { scheme: 'Bearer' | 'DPoP'; token: string } | undefined {
  if (!authorization) return undefined;
  const match = /^(Bearer|DPoP) ([\x21-\x7e]+)$/i.exec(authorization.trim());
  if (!match) return undefined;
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}
