/**
 * Look-alike names (consent phishing, docs/security.md): a client that registered itself may name itself after an
 * application or a resource the operator registered, exactly or with letters that look the same ("Сlaude" with a
 * Cyrillic С, "CIaude" with a capital I, "Ｃｌａｕｄｅ" in fullwidth, "Clau\u200bde" with a zero-width space).
 *
 * The comparison is by skeleton, in the manner of Unicode TS #39 §4 (confusable detection): two names that look
 * alike have the same skeleton. Mandate's skeleton is coarser than the standard's, on purpose (a false alarm costs a
 * warning; a miss costs a phished consent): NFKC (fullwidth, ligatures, ℓ), case folded, marks and default-ignorable
 * characters dropped (accents, zero-width and bidi controls), a small map of Latin look-alikes from Cyrillic and
 * Greek, digits and symbols (0 → o, 1 / I / i / | → l, rn → m, vv → w), and everything that is not a letter or a
 * digit dropped (spaces, punctuation, ™). A name whose letters come from more than one of Latin, Cyrillic and Greek is
 * flagged as mixed-script (UTS #39 §5.1: not single-script), the usual sign of a spoof.
 */

/** Look-alikes of Latin letters, by the Latin letter they pass for (lowercase after case folding). */
const LOOK_ALIKES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', з: '3', і: 'l', ї: 'l', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ү: 'y', ɡ: 'g', ь: 'b', ԍ: 'g', ɩ: 'l',
  // Greek
  α: 'a', β: 'b', γ: 'y', ε: 'e', ζ: 'z', η: 'n', ι: 'l', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', σ: 'o', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  // Latin, digits and symbols that pass for other letters
  ı: 'l', ɑ: 'a', i: 'l', '1': 'l', '|': 'l', '0': 'o', '5': 's', '$': 's', '@': 'a',
};
const SEQUENCES: [RegExp, string][] = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
];
const DROPPED = /[\p{M}\p{Default_Ignorable_Code_Point}]/gu;
/** Signs (™, ©, emoji) go before NFKC, which would spell ™ out as letters. */
const SIGNS = /[\p{So}\p{Sk}]/gu;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]/gu;

/** The skeleton of a name: equal for names that look alike (see above). */
export function nameSkeleton(name: string): string {
  // Marks are dropped from the decomposed form (é → e), then the rest composed again (NFKC).
  const folded = name.replace(SIGNS, '').normalize('NFKD').replace(DROPPED, '').normalize('NFKC').toLowerCase();
  let mapped = '';
  for (const char of folded) mapped += LOOK_ALIKES[char] ?? char;
  for (const [sequence, letter] of SEQUENCES) mapped = mapped.replace(sequence, letter);
  return mapped.replace(NOT_LETTER_OR_DIGIT, '');
}

const SCRIPTS: [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
];

/** The scripts of a name's letters when they are more than one of Latin, Cyrillic and Greek; null otherwise. */
export function mixedScripts(name: string): string[] | null {
  const found = new Set<string>();
  for (const char of name.normalize('NFKC')) {
    if (!/\p{L}/u.test(char)) continue;
    for (const [script, pattern] of SCRIPTS) if (pattern.test(char)) found.add(script);
  }
  return found.size > 1 ? [...found] : null;
}

/** A name the operator registered: an application or agent they created, or a resource. */
export interface KnownName {
  name: string;
  kind: 'client' | 'resource';
}

/** What a self-registered client's name imitates: a known name with the same skeleton, and its mixed scripts. */
export interface LookAlike {
  imitates: KnownName | null;
  scripts: string[] | null;
}

/** Whether `name` looks like one of `known` or mixes scripts; null when neither. */
export function lookAlike(name: string, known: readonly KnownName[]): LookAlike | null {
  const skeleton = nameSkeleton(name);
  const imitates = skeleton === '' ? null : (known.find((entry) => nameSkeleton(entry.name) === skeleton) ?? null);
  const scripts = mixedScripts(name);
  return imitates || scripts ? { imitates, scripts } : null;
}
