import type { ClientRegistrationRecord, ClientRegistrationRecords } from '../client-registration.ts';
import type { ClientRecord } from '../store.ts';
import { StoreConflictError } from '../store.ts';
import { clientColumns } from './client-records.ts';
import { type ColumnMap, decodeRow, insertStatement, updateStatement } from './columns.ts';
import { isUniqueViolation, type SqlDriver, type SqlExecutor } from './driver.ts';

const registrationColumns: ColumnMap<ClientRegistrationRecord> = {
  clientId: { column: 'client_id' },
  source: { column: 'source' },
  registrationTokenHash: { column: 'registration_token_hash' },
  metadata: { column: 'metadata', json: true },
  documentExpiresAt: { column: 'document_expires_at' },
  createdAt: { column: 'created_at' },
  updatedAt: { column: 'updated_at' },
};

/** What a metadata document decides of its client; status, `tokensValidAfter` and creation stay the server's. */
type DocumentFields = Omit<ClientRecord, 'clientId' | 'kind' | 'status' | 'tokensValidAfter' | 'createdAt'>;

function documentFields(client: ClientRecord): DocumentFields {
  const { clientId: _id, kind: _kind, status: _status, tokensValidAfter: _after, createdAt: _created, ...fields } = client;
  return fields;
}

export function clientRegistrationRecords(db: SqlDriver): ClientRegistrationRecords {
  const getClient = async (tx: SqlExecutor, clientId: string) => {
    const row = await tx.get('SELECT * FROM clients WHERE client_id = ?', [clientId]);
    return row ? decodeRow(clientColumns, row) : null;
  };
  const saveRegistration = async (tx: SqlExecutor, registration: ClientRegistrationRecord) => {
    const [insert, values] = insertStatement('client_registrations', registrationColumns, registration);
    await tx.run(
      `${insert} ON CONFLICT (client_id) DO UPDATE SET source = excluded.source, registration_token_hash = excluded.registration_token_hash, ` +
        'metadata = excluded.metadata, document_expires_at = excluded.document_expires_at, updated_at = excluded.updated_at',
      values,
    );
  };

  return {
    async listVouchedClientNames() {
      const rows = await db.all('SELECT DISTINCT c.name FROM clients c WHERE NOT EXISTS (SELECT 1 FROM client_registrations r WHERE r.client_id = c.client_id) ORDER BY c.name');
      return rows.map((row) => String(row['name']));
    },
    async createRegisteredClient(client, registration) {
      try {
        await db.transaction(async (tx) => {
          await tx.run(...insertStatement('clients', clientColumns, client));
          await tx.run(...insertStatement('client_registrations', registrationColumns, registration));
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`client ${client.clientId} exists`);
        throw err;
      }
    },

    async getClientRegistration(clientId) {
      const row = await db.get('SELECT * FROM client_registrations WHERE client_id = ?', [clientId]);
      return row ? decodeRow(registrationColumns, row) : null;
    },

    async saveMetadataDocumentClient(client, registration) {
      return db.transaction(async (tx) => {
        const [insert, values] = insertStatement('clients', clientColumns, client);
        const inserted = await tx.run(`${insert} ON CONFLICT (client_id) DO NOTHING`, values);
        if (inserted === 0) {
          const statement = updateStatement('clients', clientColumns, documentFields(client), 'client_id', client.clientId);
          if (statement) await tx.get(...statement);
        }
        await saveRegistration(tx, registration);
        return (await getClient(tx, client.clientId))!;
      });
    },

    async updateRegisteredClient(clientId, client, registration) {
      return db.transaction(async (tx) => {
        const statement = updateStatement('clients', clientColumns, client, 'client_id', clientId);
        const row = statement ? await tx.get(...statement) : await tx.get('SELECT * FROM clients WHERE client_id = ?', [clientId]);
        if (!row) return null;
        await tx.get(...updateStatement('client_registrations', registrationColumns, registration, 'client_id', clientId)!);
        return decodeRow(clientColumns, row);
      });
    },

    async deleteUnusedRegisteredClients(createdBefore) {
      return db.transaction(async (tx) => {
        const rows = await tx.all(
          "SELECT r.client_id FROM client_registrations r WHERE r.source = 'dynamic' AND r.created_at < ? " +
            'AND NOT EXISTS (SELECT 1 FROM user_grants g WHERE g.client_id = r.client_id)',
          [createdBefore],
        );
        const ids = rows.map((row) => String(row['client_id']));
        for (const id of ids) {
          await tx.run('DELETE FROM client_registrations WHERE client_id = ?', [id]);
          await tx.run('DELETE FROM clients WHERE client_id = ?', [id]);
        }
        return ids;
      });
    },
  };
}
