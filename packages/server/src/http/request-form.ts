import type { FastifyRequest } from 'fastify';
import { FormParams } from '../oauth/form-params.ts';
import { invalidRequest } from '../oauth/oauth-error.ts';

/** The request's form parameters; OAuth endpoints accept only `application/x-www-form-urlencoded` (RFC 6749 §3.2). */
export function requestForm(request: FastifyRequest): FormParams {
  const contentType = request.headers['content-type'];
  if (typeof request.body !== 'string' || !contentType || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
    throw invalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  return new FormParams(request.body);
}

/**
 * The single Authorization header. Node keeps only the first of repeated Authorization headers in
 * `request.headers`, so count them in the raw headers: two credentials in one request are refused, not guessed at.
 */
export function authorizationHeader(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') count++;
  if (count > 1) throw invalidRequest('only one Authorization header is allowed');
  const value = request.headers.authorization;
  return typeof value === 'string' ? value : undefined;
}
