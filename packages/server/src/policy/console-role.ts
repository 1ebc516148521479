import type { UserRecord } from '../store/store.ts';

/**
 * Who may do what in the admin console (issue 12 item 6), decided from the signed-in user's record alone: `is_admin`
 * → admin; the role `approver` → approver; the role `viewer` → viewer; anyone else → no console at all (deny by
 * default). An admin reads and changes everything; a viewer reads everything and changes nothing; an approver sees
 * and decides approval requests, and nothing else.
 */
export type ConsoleRole = 'admin' | 'approver' | 'viewer';

/** The console's sections, one page module each. */
export type ConsoleSection = 'dashboard' | 'agents' | 'clients' | 'resources' | 'users' | 'approvals' | 'grants' | 'keys' | 'audit';

export const CONSOLE_SECTIONS: readonly ConsoleSection[] = ['dashboard', 'approvals', 'agents', 'clients', 'resources', 'users', 'grants', 'keys', 'audit'];

export function consoleRole(user: Pick<UserRecord, 'isAdmin' | 'roles' | 'status'>): ConsoleRole | null {
  if (user.status !== 'active') return null;
  if (user.isAdmin) return 'admin';
  if (user.roles.includes('approver')) return 'approver';
  if (user.roles.includes('viewer')) return 'viewer';
  return null;
}

/** Whether `role` may see `section`. */
export function mayRead(role: ConsoleRole, section: ConsoleSection): boolean {
  return role !== 'approver' || section === 'approvals';
}

/** Whether `role` may change anything in `section` (a POST there). */
export function mayChange(role: ConsoleRole, section: ConsoleSection): boolean {
  return role === 'admin' || (role === 'approver' && section === 'approvals');
}
