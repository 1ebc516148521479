import { DatabaseSync } from 'node:sqlite';
import { userInfo } from 'node:os';
import pg from 'pg';

/**
 * Read-only views of a fuzzed database, on its own connection: the rows a refused request must never write, and
 * the relations no sequence of requests may break (a partial write leaves a child without its parent).
 */

/** Tables only a successful request writes to (audit, rate counts, replay markers and sessions are written on refusals too). */
const DURABLE_TABLES = [
  'clients', 'resources', 'users', 'user_grants', 'authorization_codes', 'refresh_tokens', 'consents', 'token_lineage',
  'transaction_tokens', 'client_registrations', 'device_authorizations', 'pushed_authorizations', 'admin_tokens', 'signing_keys',
];

/** Each query counts rows that break one relation; every count must be zero. */
const BROKEN_RELATIONS: Record<string, string> = {
  'grant without its client': 'SELECT count(*) AS n FROM user_grants g WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = g.client_id)',
  'grant without its user': 'SELECT count(*) AS n FROM user_grants g WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = g.user_id)',
  'refresh token without its grant': 'SELECT count(*) AS n FROM refresh_tokens r WHERE NOT EXISTS (SELECT 1 FROM user_grants g WHERE g.id = r.grant_id)',
  'code without its grant': 'SELECT count(*) AS n FROM authorization_codes a WHERE NOT EXISTS (SELECT 1 FROM user_grants g WHERE g.id = a.grant_id)',
  'consent without its client': 'SELECT count(*) AS n FROM consents s WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = s.client_id)',
  'refresh token whose grant has no token.issued audit row naming it':
    "SELECT count(*) AS n FROM refresh_tokens r WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.event = 'token.issued' AND l.detail LIKE '%' || r.grant_id || '%')",
  // Issue 14: a token's record is written in its audit row's transaction, so none exists without the row naming it.
  'refresh token without the token.issued audit row naming its hash':
    "SELECT count(*) AS n FROM refresh_tokens r WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.event = 'token.issued' AND l.detail LIKE '%' || r.token_hash || '%')",
  'transaction token without the token.issued audit row naming its jti':
    "SELECT count(*) AS n FROM transaction_tokens t WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.event = 'token.issued' AND l.detail LIKE '%' || t.jti || '%')",
  'registration without its client': 'SELECT count(*) AS n FROM client_registrations r WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = r.client_id)',
};

/**
 * The relations of what the success paths write (success-targets.ts, proof-targets.ts), counted like those above:
 * every token's grant, lineage and audit row, codes used once, one live refresh token per family (users are never
 * deleted in a fuzz run, so no grant goes with its user). The audit rows' `detail` is JSON text, read with each
 * dialect's JSON functions (`i` is every `token.issued` row's detail, parsed once).
 */
function successPathRelations(dialect: 'sqlite' | 'postgres'): Record<string, string> {
  const pg = dialect === 'postgres';
  // PostgreSQL: `json` (not `jsonb`, which refuses the \u0000 escape a hostile input may leave in a refusal's detail),
  // over only the token.issued rows, materialized first so that no other row is ever cast.
  const issued = pg
    ? "WITH issued AS MATERIALIZED (SELECT detail::json AS d FROM audit_log WHERE event = 'token.issued'), i AS (SELECT d->>'jti' AS jti, d->>'grant_id' AS gid, d->>'grant_type' AS grant_type, d AS detail FROM issued)"
    : "WITH i AS MATERIALIZED (SELECT json_extract(detail, '$.jti') AS jti, json_extract(detail, '$.grant_id') AS gid, json_extract(detail, '$.grant_type') AS grant_type, detail FROM audit_log WHERE event = 'token.issued')";
  const parents = pg
    ? "CROSS JOIN LATERAL json_array_elements_text(CASE WHEN json_typeof(i.detail->'parent_jtis') = 'array' THEN i.detail->'parent_jtis' ELSE '[]'::json END) AS p(value)"
    : "JOIN json_each(i.detail, '$.parent_jtis') AS p";
  return {
    'issued token naming a grant that does not exist': `${issued} SELECT count(*) AS n FROM i WHERE i.gid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM user_grants g WHERE g.id = i.gid)`,
    'exchanged token without the lineage row to its parent': `${issued} SELECT count(*) AS n FROM i ${parents} WHERE NOT EXISTS (SELECT 1 FROM token_lineage t WHERE t.parent_jti = p.value AND t.child_jti = i.jti)`,
    'lineage row whose token has no token.issued audit row': `${issued} SELECT count(*) AS n FROM token_lineage t WHERE NOT EXISTS (SELECT 1 FROM i WHERE i.jti = t.child_jti)`,
    'lineage row whose parent was never issued': `${issued} SELECT count(*) AS n FROM token_lineage t WHERE NOT EXISTS (SELECT 1 FROM i WHERE i.jti = t.parent_jti)`,
    'code redeemed more than once':
      `${issued} SELECT count(*) AS n FROM (SELECT gid, count(*) AS uses FROM i WHERE i.grant_type = 'authorization_code' GROUP BY gid) x WHERE x.uses > (SELECT count(*) FROM authorization_codes a WHERE a.grant_id = x.gid AND a.consumed_at IS NOT NULL)`,
    'refresh-token family with two live members': "SELECT count(*) AS n FROM (SELECT grant_id FROM refresh_tokens WHERE status = 'active' GROUP BY grant_id HAVING count(*) > 1) x",
  };
}

export interface DatabaseProbe {
  /** Row counts of the durable tables, as one comparable string. */
  durableCounts(): Promise<string>;
  /** The names of broken relations with their counts (empty when the database is consistent). */
  brokenRelations(): Promise<string[]>;
  close(): Promise<void>;
}

const countsSql = `SELECT ${DURABLE_TABLES.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ')}`;

export async function openProbe(url: string): Promise<DatabaseProbe> {
  let query: (sql: string) => Promise<Record<string, unknown>>;
  let close: () => Promise<void>;
  const relations = { ...BROKEN_RELATIONS, ...successPathRelations(url.startsWith('sqlite:') ? 'sqlite' : 'postgres') };
  if (url.startsWith('sqlite:')) {
    const db = new DatabaseSync(url.slice('sqlite:'.length), { readOnly: true });
    query = async (sql) => db.prepare(sql).get() as Record<string, unknown>;
    close = async () => db.close();
  } else {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema');
    parsed.searchParams.delete('schema');
    if (!parsed.username) parsed.username = process.env['PGUSER'] ?? userInfo().username;
    const client = new pg.Client({ connectionString: parsed.toString(), ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    await client.connect();
    query = async (sql) => (await client.query(sql)).rows[0] as Record<string, unknown>;
    close = () => client.end();
  }
  return {
    async durableCounts() {
      const row = await query(countsSql);
      return DURABLE_TABLES.map((t) => `${t}=${String(row[t])}`).join(' ');
    },
    async brokenRelations() {
      const broken: string[] = [];
      for (const [name, sql] of Object.entries(relations)) {
        const n = Number((await query(sql))['n']);
        if (n !== 0) broken.push(`${name}: ${n}`);
      }
      return broken;
    },
    close,
  };
}
