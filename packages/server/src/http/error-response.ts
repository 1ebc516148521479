import { SigningUnavailableError } from '../keys/external-signer.ts';
import { ManagementError } from '../management/management-error.ts';
import { StoreConflictError, StoreInputError, StoreUnavailableError } from '../store/store.ts';
import type { ErrorFormat } from './route.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import { Problem } from './problem.ts';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  contentType: string;
  body: string;
  /** True for errors we did not expect: they are logged, and the caller sees only a generic message. */
  unexpected: boolean;
  /** True when the database could not serve the request (503): logged as a warning, the operator's concern. */
  unavailable?: boolean;
}

/** Errors Fastify raises while reading a request, by code: all are the client's fault. */
function fastifyClientError(err: { code?: unknown; statusCode?: unknown; message: string }, bodyLimit: number): { status: number; message: string } | null {
  if (typeof err.code !== 'string' || !err.code.startsWith('FST_')) return null;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: `the request body exceeds ${bodyLimit} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'unsupported content type' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'the JSON body is empty' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'Content-Length does not match the body' };
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : null;
  return status ? { status, message: 'the request is malformed' } : null;
}

/** JSON parse errors from Fastify's parser carry statusCode 400 and no FST_ code. */
function isJsonSyntaxError(err: { statusCode?: unknown }): boolean {
  return err instanceof SyntaxError || err.statusCode === 400;
}

/**
 * Turns any error into the response the route's format calls for: RFC 6749 JSON on OAuth endpoints, RFC 9457
 * problem+json on the admin API. Never a stack trace; anything unexpected becomes a generic 500.
 */
export function errorResponse(err: unknown, format: ErrorFormat, bodyLimit: number): ErrorResponse {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}, unexpected = false): ErrorResponse => ({
    status,
    headers,
    contentType: format === 'oauth' ? 'application/json; charset=utf-8' : 'application/problem+json; charset=utf-8',
    body: JSON.stringify(body),
    unexpected,
  });

  if (err instanceof OAuthError) {
    if (format === 'oauth') return json(err.status, err.toJSON(), { ...err.headers });
    return json(err.status, new Problem(err.status === 401 ? 'unauthorized' : 'invalid-request', err.message).toJSON(), { ...err.headers });
  }
  if (err instanceof ManagementError) {
    const problem = new Problem(err.kind, err.message, err.errors);
    return json(problem.status, format === 'oauth' ? { error: 'invalid_request', error_description: err.message } : problem.toJSON());
  }
  if (err instanceof Problem) {
    return json(err.status, format === 'oauth' ? { error: 'invalid_request', error_description: err.message } : err.toJSON());
  }
  // The store's own refusals are the request's fault, whichever path reached the store with them (SR-11).
  if (err instanceof StoreInputError) {
    return json(400, format === 'oauth' ? { error: 'invalid_request', error_description: err.message } : new Problem('invalid-request', err.message).toJSON());
  }
  if (err instanceof StoreConflictError) {
    return format === 'oauth'
      ? json(400, { error: 'invalid_request', error_description: 'the request conflicts with an existing record' })
      : json(409, new Problem('conflict', 'a record with this key exists').toJSON());
  }
  // The external signer did not answer: nothing was issued or written; the client may try again shortly.
  if (err instanceof SigningUnavailableError) {
    const body = format === 'oauth' ? { error: 'temporarily_unavailable', error_description: 'the token could not be signed; try again shortly' } : new Problem('unavailable', 'the token could not be signed; try again shortly').toJSON();
    return { ...json(503, body, { 'retry-after': '5' }), unavailable: true };
  }
  // The database dropped, failed over, stayed locked or ran out of disk: the request's transaction did not commit, so
  // the client may retry it as it was (RFC 9110 §15.6.4, §10.2.3). RFC 6749 §4.1.2.1 names the error.
  if (err instanceof StoreUnavailableError) {
    const headers = { 'retry-after': String(err.retryAfterSeconds) };
    const description = 'the service is temporarily unavailable; retry later';
    const body = format === 'oauth' ? { error: 'temporarily_unavailable', error_description: description } : new Problem('unavailable', description).toJSON();
    return { ...json(503, body, headers), unavailable: true };
  }
  const e = (err ?? {}) as { code?: unknown; statusCode?: unknown; message: string };
  const client = fastifyClientError(e, bodyLimit) ?? (isJsonSyntaxError(e) ? { status: 400, message: 'the body is not valid JSON' } : null);
  if (client) {
    if (format === 'oauth') {
      // RFC 6749 defines no code for these; invalid_request with the precise status says what went wrong.
      const status = client.status === 415 ? 400 : client.status;
      const message = client.status === 415 ? 'the request body must be application/x-www-form-urlencoded' : client.message;
      return json(status, { error: 'invalid_request', error_description: message });
    }
    const type = client.status === 413 ? 'too-large' : 'invalid-request';
    const problem = new Problem(type, client.message);
    return json(client.status, { ...problem.toJSON(), status: client.status });
  }
  if (format === 'oauth') return json(500, { error: 'server_error', error_description: 'internal error' }, {}, true);
  return json(500, new Problem('server-error', 'internal error').toJSON(), {}, true);
}
