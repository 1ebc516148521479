import type { FastifyRequest } from 'fastify';
import { FormParams } from './form.ts';
import { invalidRequest } from './oauth-error.ts';

/** The request's form parameters; OAuth endpoints accept only `application/x-www-form-urlencoded` (RFC 6749 §3.2). */
export function requestForm(request: FastifyRequest): FormParams {
  const contentType = request.headers['content-type'];
  if (typeof request.body !== 'string' || !contentType || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
    throw invalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  return new FormParams(request.body);
}

/** The single Authorization header; RFC 6750 §2 and common sense refuse two. */
export function authorizationHeader(request: FastifyRequest): string | undefined {
  const value = request.headers.authorization;
  if (Array.isArray(value)) throw invalidRequest('only one Authorization header is allowed');
  return value;
}
