import type { ReplayRecords, RevocationRecords } from '../store.ts';
import type { SqlExecutor } from './driver.ts';
import type { RevocationEventLog } from './revocation-event-records.ts';

/** Every descendant of the parent `?` in the lineage not revoked yet, revoked until its own `exp` (one statement). */
const REVOKE_DESCENDANTS = `
  WITH RECURSIVE descendants (jti, expires_at) AS (
    SELECT child_jti, expires_at FROM token_lineage WHERE parent_jti = ?
    UNION
    SELECT l.child_jti, l.expires_at FROM token_lineage l JOIN descendants d ON l.parent_jti = d.jti
  )
  INSERT INTO revoked_tokens (jti, expires_at)
  SELECT jti, MAX(expires_at) FROM descendants GROUP BY jti
  ON CONFLICT (jti) DO NOTHING`;

/**
 * The token `?` and every descendant in the lineage, with the latest expiry and the audiences (a JSON array, NULL
 * when unknown): what a revocation event names.
 */
const TREE = `
  WITH RECURSIVE tree (jti, expires_at, audiences) AS (
    SELECT CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT)
    UNION
    SELECT l.child_jti, l.expires_at, l.audiences FROM token_lineage l JOIN tree t ON l.parent_jti = t.jti
  )
  SELECT jti, MAX(expires_at) AS expires_at, audiences FROM tree GROUP BY jti, audiences`;

/** The audiences of every token of a tree, or undefined when one of them is unknown (the event then goes to all). */
function treeAudiences(rows: readonly Record<string, unknown>[]): string[] | undefined {
  const all = new Set<string>();
  for (const row of rows) {
    if (row['audiences'] == null) return undefined;
    for (const aud of JSON.parse(String(row['audiences'])) as string[]) all.add(aud);
  }
  return [...all];
}

interface Derivation {
  childJti: string;
  parentJtis: readonly string[];
  expiresAt: number;
  audiences: string | null;
  settle: { resolve(recorded: boolean): void; reject(err: unknown): void };
}

/** Derivations recorded in one statement at most (4 parameters a lineage row, below every dialect's limit). */
const MAX_BATCH = 250;

/**
 * `recordDerivation` with group commit: the derivations asked for during one turn of the event loop are written in one
 * INSERT (one commit, one round trip), then their parents' revocation is read in one SELECT, and each caller learns
 * whether its child stands. The order is the one a single derivation needs: its lineage rows are committed before
 * its parents' revocation is read, while a revocation revokes the parent before it walks the lineage (revokeTokenId),
 * so one of the two sees the other and a child of a revoked parent never survives (SR-14).
 */
function derivationBatcher(db: SqlExecutor): RevocationRecords['recordDerivation'] {
  let pending: Derivation[] = [];
  let scheduled = false;

  async function write(batch: readonly Derivation[]): Promise<void> {
    const rows = batch.flatMap((d) => [...new Set(d.parentJtis)].map((parent) => [parent, d.childJti, d.expiresAt, d.audiences] as const));
    await db.run(`INSERT INTO token_lineage (parent_jti, child_jti, expires_at, audiences) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`, rows.flat());
    const parents = [...new Set(batch.flatMap((d) => d.parentJtis))];
    const revoked = new Set((await db.all(`SELECT jti FROM revoked_tokens WHERE jti IN (${parents.map(() => '?').join(', ')})`, parents)).map((row) => String(row['jti'])));
    for (const d of batch) {
      if (!d.parentJtis.some((parent) => revoked.has(parent))) continue;
      await db.run('INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING', [d.childJti, d.expiresAt]);
    }
    for (const d of batch) d.settle.resolve(!d.parentJtis.some((parent) => revoked.has(parent)));
  }

  /** One drain at a time: what arrives while a batch is written waits for it, and goes in the next (group commit). */
  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending.slice(0, MAX_BATCH);
      pending = pending.slice(MAX_BATCH);
      try {
        await write(batch);
      } catch (err) {
        for (const d of batch) d.settle.reject(err);
      }
    }
    scheduled = false;
  }

  return (childJti, parentJtis, expiresAt, audiences) => {
    if (parentJtis.length === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      pending.push({ childJti, parentJtis, expiresAt, audiences: audiences === undefined ? null : JSON.stringify(audiences), settle: { resolve, reject } });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void drain());
      }
    });
  };
}

export function revocationRecords(db: SqlExecutor, events: Pick<RevocationEventLog, 'append'>): RevocationRecords {
  return {
    async revokeTokenId(jti, expiresAt, now, audiences) {
      const newlyRevoked = await db.run('INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING', [jti, expiresAt]);
      // The parent is revoked before its lineage is read, and a derivation records its lineage before it reads its
      // parents' revocation (recordDerivation): one of the two sees the other. A child recorded while the walk ran
      // is caught by the next walk, so walk until one revokes nothing new.
      let revoked = 0;
      for (let added = await db.run(REVOKE_DESCENDANTS, [jti]); added > 0; added = await db.run(REVOKE_DESCENDANTS, [jti])) revoked += added;
      // One event per revocation that changed something (a repeated revoke stays silent), naming the whole tree.
      if (newlyRevoked > 0 || revoked > 0) {
        const tree = await db.all(TREE, [jti, expiresAt, audiences === undefined ? null : JSON.stringify(audiences)]);
        const until = Math.max(...tree.map((row) => Number(row['expires_at'])));
        const aud = treeAudiences(tree);
        await events.append({ jti: [...new Set(tree.map((row) => String(row['jti'])))], ...(aud ? { aud } : {}) }, now, until);
      }
      return revoked;
    },
    async isTokenIdRevoked(jti) {
      return (await db.get('SELECT 1 AS revoked FROM revoked_tokens WHERE jti = ?', [jti])) !== undefined;
    },
    recordDerivation: derivationBatcher(db),
  };
}

export function replayRecords(db: SqlExecutor): ReplayRecords {
  return {
    async consumeOnce(key, expiresAt, now) {
      // An expired marker may still be there before the purge runs: take it over rather than call it a replay.
      // The column holds whole seconds; a JWT's NumericDate may have a fraction (RFC 7519 §2: a proof's `iat` of
      // 1764551234.5 gave a 500, SR-FUZZ-02), so the marker is kept to the next whole second, never less.
      const changed = await db.run(
        `INSERT INTO replay_markers (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_markers.expires_at < ?`,
        [key, Math.ceil(expiresAt), now],
      );
      return changed > 0;
    },
  };
}
