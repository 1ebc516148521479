import fc from 'fast-check';
import { hostileText } from './hostile-jwt.ts';

/**
 * One-field mutations of a valid artefact (a form, a JWT's claims, a JSON document), for the success-path targets
 * (success-targets.ts, proof-targets.ts). The valid artefact is made through the real endpoints for each input, so a
 * mutation is a description (which field, which edit) that fast-check generates, shows and shrinks, applied to the
 * artefact when the input runs: everything but the one field stays valid, and the grant logic behind it is reached.
 */

/** How one value is changed; `pick` takes one of the field's alternatives (other valid values, look-alikes). */
export type Edit =
  | { op: 'flip' }
  | { op: 'append'; text: string }
  | { op: 'truncate' }
  | { op: 'upper' }
  | { op: 'replace'; text: string }
  | { op: 'pick'; index: number };

/** `set` changes the field, `remove` drops it, `repeat` sends it twice (the valid value, then the edited one). */
export type Mode = 'set' | 'remove' | 'repeat';

export interface Mutation {
  field: string;
  mode: Mode;
  edit: Edit;
}

/** No change: the valid artefact as made, which must succeed. */
export const NONE = 'none';

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  { arbitrary: fc.constant<Edit>({ op: 'flip' }), weight: 2 },
  { arbitrary: fc.oneof(hostileText, fc.constantFrom(' ', '\u0000', '%00', '/', '#x', '?x=1', '\u0301', '\u200b', '.', 'x')).map((text): Edit => ({ op: 'append', text })), weight: 2 },
  { arbitrary: fc.constant<Edit>({ op: 'truncate' }), weight: 1 },
  { arbitrary: fc.constant<Edit>({ op: 'upper' }), weight: 1 },
  { arbitrary: fc.oneof(hostileText, fc.string({ maxLength: 20 }), fc.constantFrom('', '0', '-1', '2147483648', '1e400', 'null', 'true', '[]', '{}')).map((text): Edit => ({ op: 'replace', text })), weight: 2 },
  { arbitrary: fc.nat(63).map((index): Edit => ({ op: 'pick', index })), weight: 5 },
);

/**
 * A mutation of one of `fields`, or none (weight `unchanged` of 10: the share of inputs that are the valid artefact).
 * A target lists its other kinds of input (a replay, a race) as fields of their own.
 */
export function mutation(fields: readonly string[], unchanged = 2): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { arbitrary: fc.constant<Mutation>({ field: NONE, mode: 'set', edit: { op: 'pick', index: 0 } }), weight: unchanged },
    {
      arbitrary: fc.record({ field: fc.constantFrom(...fields), mode: fc.constantFrom<Mode>('set', 'set', 'set', 'set', 'remove', 'repeat'), edit }),
      weight: 10 - unchanged,
    },
  );
}

/** The edited value: `alternatives` are the field's other candidate values, known only once the artefact is made. */
export function applyEdit(value: string, change: Edit, alternatives: readonly string[]): string {
  switch (change.op) {
    case 'flip': {
      // A character in the middle: the last one of a base64url signature may carry only padding bits.
      if (value === '') return 'A';
      const at = Math.floor(value.length / 2);
      return `${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`;
    }
    case 'append':
      return `${value}${change.text}`;
    case 'truncate':
      return value.slice(0, Math.floor(value.length / 2));
    case 'upper':
      return value.toUpperCase();
    case 'replace':
      return change.text;
    case 'pick':
      return alternatives.length === 0 ? value : alternatives[change.index % alternatives.length]!;
  }
}

/** A form as ordered pairs (a name may repeat), with one mutation applied. */
export function mutateForm(valid: Record<string, string>, m: Mutation, alternatives: (field: string) => readonly string[]): [string, string][] {
  if (m.field === NONE) return Object.entries(valid);
  const current = valid[m.field] ?? '';
  const edited = applyEdit(current, m.edit, alternatives(m.field));
  const pairs = Object.entries(valid).filter(([name]) => name !== m.field);
  if (m.mode === 'remove') return pairs;
  if (m.mode === 'repeat') return [...pairs, ...(m.field in valid ? [[m.field, current] as [string, string]] : []), [m.field, edited]];
  return [...pairs, [m.field, edited]];
}

/** The values a form sends for one name; an empty value counts as omitted, as the server reads it (form-params.ts). */
export const sent = (pairs: readonly [string, string][], name: string): string[] => pairs.filter(([n, v]) => n === name && v !== '').map(([, v]) => v);

/** Whether the form sends `name` more than once (with a value each time): RFC 6749 §3.1 refuses that. */
export const repeated = (pairs: readonly [string, string][], name: string): boolean => sent(pairs, name).length > 1;

/** Whether the form sends `name` exactly as the valid artefact had it (once, the same value). */
export const unchanged = (pairs: readonly [string, string][], valid: Record<string, string>, name: string): boolean => {
  const values = sent(pairs, name);
  return name in valid ? values.length === 1 && values[0] === valid[name] : values.length === 0;
};

export const formText = (pairs: readonly [string, string][]): string => new URLSearchParams(pairs as [string, string][]).toString();

/** A JSON object (claims, metadata) with one member mutated; `pick` alternatives may be any JSON value. */
export function mutateObject(valid: Record<string, unknown>, m: Mutation, alternatives: (field: string) => readonly unknown[]): Record<string, unknown> {
  if (m.field === NONE) return { ...valid };
  const out: Record<string, unknown> = { ...valid };
  if (m.mode === 'remove') {
    delete out[m.field];
    return out;
  }
  const current = valid[m.field];
  const options = alternatives(m.field);
  let edited: unknown;
  if (m.edit.op === 'pick' && options.length > 0) edited = options[m.edit.index % options.length];
  else if (typeof current === 'number') edited = m.edit.op === 'flip' ? current + 1 : m.edit.op === 'truncate' ? Math.floor(current / 2) : applyEdit(String(current), m.edit, []);
  else edited = applyEdit(typeof current === 'string' ? current : JSON.stringify(current ?? ''), m.edit, []);
  // `repeat` in an object: the value wrapped in an array with the valid one (a JSON object cannot repeat a member here).
  out[m.field] = m.mode === 'repeat' ? [current, edited] : edited;
  return out;
}

