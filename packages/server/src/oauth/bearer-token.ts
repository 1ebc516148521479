/** The credential of `Authorization: Bearer <credential>` (RFC 6750 §2.1), or undefined. */
export function bearerCredential(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization.trim());
  return match ? match[1] : undefined;
}
