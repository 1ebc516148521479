import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../users/password.ts';
import { emailAddress, parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';
import { createUser, type UserStore, type UserView } from './users.ts';

/**
 * Self-signup (issue 12 item 6, optional; `users.selfSignup`, off by default): a person creates their own account
 * with an email and a password. It is created as an operator's would be (management/users.ts, audited as
 * `user.created` with the actor `self-signup`), but never with a role or admin, and with its email unverified.
 */
const signupSchema = z
  .object({
    email: emailAddress,
    name: z.string().trim().min(1).max(200).optional(),
    password: z.string().min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`).max(MAX_PASSWORD_LENGTH),
  })
  .strict();

export async function signUp(input: unknown, deps: Omit<ManagementDeps<UserStore>, 'actor'>): Promise<UserView> {
  if (!deps.config.users.selfSignup) throw new ManagementError('forbidden', 'self-signup is off on this server (users.selfSignup)');
  const parsed = parseInput(signupSchema, input);
  return createUser({ ...parsed, is_admin: false, roles: [], email_verified: false }, { ...deps, actor: 'self-signup' });
}
