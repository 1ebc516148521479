/** Remembered consent per (user, client, agent or '', resource or ''). */
export interface ConsentRecord {
  userId: string;
  clientId: string;
  actorId: string;
  resource: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
}

export interface ConsentRecords {
  getConsent(userId: string, clientId: string, actorId: string, resource: string): Promise<ConsentRecord | null>;
  /** Inserts or replaces the remembered scopes of that key. */
  saveConsent(record: ConsentRecord): Promise<void>;
  listConsents(userId: string): Promise<ConsentRecord[]>;
  deleteConsent(userId: string, clientId: string, actorId: string, resource: string): Promise<boolean>;
}
