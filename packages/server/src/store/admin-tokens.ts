/** What an admin API token may do (deny by default: a route names the roles it admits; `admin` every route). */
export type AdminRole = 'admin' | 'approver' | 'viewer';

export interface AdminTokenRecord {
  id: string;
  name: string;
  role: AdminRole;
  /** The user this token speaks for: approvals it decides are recorded as theirs. */
  userId: string | null;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface AdminTokenRecords {
  createAdminToken(record: AdminTokenRecord): Promise<void>;
  getAdminToken(id: string): Promise<AdminTokenRecord | null>;
  listAdminTokens(): Promise<AdminTokenRecord[]>;
  revokeAdminToken(id: string, revokedAt: number): Promise<boolean>;
}
