import { findUnstorable } from '../storable-text.ts';
import { StoreInputError } from '../store.ts';
import type { SqlRow, SqlValue } from './driver.ts';

/**
 * Maps between record fields (camelCase) and columns (snake_case). JSON columns are written as JSON text, which
 * SQLite stores as TEXT and PostgreSQL casts to JSONB; on the way back SQLite hands over text and `pg` an object.
 */
export interface ColumnSpec {
  column: string;
  json?: boolean;
  /** A boolean: INTEGER 0/1 in SQLite, BOOLEAN in PostgreSQL (which accepts 0/1 as input). */
  bool?: boolean;
}

export type ColumnMap<R> = { readonly [K in keyof R]-?: ColumnSpec };

function encodeValue(spec: ColumnSpec, value: unknown): SqlValue {
  if (spec.json) {
    if (value === null || value === undefined) return null;
    // JSON text escapes a NUL or a lone surrogate (`\u0000`), which the driver's check cannot see; jsonb refuses both.
    const unstorable = findUnstorable(value);
    if (unstorable) throw new StoreInputError(`${spec.column}${unstorable.path ? `.${unstorable.path}` : ''} contains ${unstorable.problem}, which cannot be stored`);
    return JSON.stringify(value);
  }
  if (spec.bool) return value ? 1 : 0;
  if (value === undefined) return null;
  return value as SqlValue;
}

export function decodeRow<R>(map: ColumnMap<R>, row: SqlRow): R {
  const record: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(map) as [string, ColumnSpec][]) {
    const raw = row[spec.column];
    if (spec.bool) record[field] = raw === true || raw === 1;
    else record[field] = spec.json && typeof raw === 'string' ? JSON.parse(raw) : (raw ?? null);
  }
  return record as R;
}

/** `INSERT INTO table (cols) VALUES (?, ...)` with values in the same order. */
export function insertStatement<R>(table: string, map: ColumnMap<R>, record: R): [string, SqlValue[]] {
  const entries = Object.entries(map) as [keyof R & string, ColumnSpec][];
  const columns = entries.map(([, spec]) => spec.column).join(', ');
  const marks = entries.map(() => '?').join(', ');
  const values = entries.map(([field, spec]) => encodeValue(spec, record[field]));
  return [`INSERT INTO ${table} (${columns}) VALUES (${marks})`, values];
}

/** `UPDATE table SET a = ?, ... WHERE key = ? RETURNING *` for the fields present in `patch`. */
export function updateStatement<R>(
  table: string,
  map: ColumnMap<R>,
  patch: Partial<R>,
  keyColumn: string,
  key: string,
): [string, SqlValue[]] | null {
  const sets: string[] = [];
  const values: SqlValue[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const spec = (map as Record<string, ColumnSpec>)[field];
    if (!spec) throw new TypeError(`unknown field ${field}`);
    sets.push(`${spec.column} = ?`);
    values.push(encodeValue(spec, value));
  }
  if (sets.length === 0) return null;
  values.push(key);
  return [`UPDATE ${table} SET ${sets.join(', ')} WHERE ${keyColumn} = ? RETURNING *`, values];
}
