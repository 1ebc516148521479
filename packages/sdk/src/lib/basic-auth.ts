/**
 * The `Authorization: Basic` value for client credentials. RFC 6749 §2.3.1: the client id and secret are each
 * form-urlencoded before being joined with `:` and base64-encoded, so that a `:` in the id cannot shift the split.
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}
