import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lookAlike, mixedScripts, nameSkeleton } from '../../src/policy/look-alike-names.ts';

/** Consent phishing: the skeleton of look-alike names (policy/look-alike-names.ts), in the manner of UTS #39. */

test('LOOK-ALIKE names that look the same have one skeleton: case, Cyrillic and Greek letters, I/l/1, fullwidth, zero-width, accents, spacing', () => {
  const claude = nameSkeleton('Claude Desktop');
  for (const spoof of [
    'claude desktop', // case
    '\u0421laude Desktop', // Cyrillic С
    'Cl\u0430ude Deskt\u043ep', // Cyrillic а, о
    'CIaude Desktop', // capital I for l
    'C1aude Desktop', // digit one for l
    '\uff23\uff4c\uff41\uff55\uff44\uff45 Desktop', // fullwidth (NFKC)
    'Clau\u200bde\u200d Desktop', // zero-width space and joiner
    'Claude\u202e Desktop', // a bidi override
    'Cláude Désktop', // accents
    'ClaudeDesktop', // spacing
    'Claude-Desktop™', // punctuation, a symbol
    '\u0421\u217Caude Desktop', // Roman numeral fifty (NFKC l)
  ]) {
    assert.equal(nameSkeleton(spoof), claude, spoof);
  }
  assert.equal(nameSkeleton('\u0391\u03a1\u03a1LE'), nameSkeleton('APPLE'), 'Greek capitals Α, Ρ');
  assert.equal(nameSkeleton('rnicrosoft'), nameSkeleton('Microsoft'), 'rn for m');
  assert.equal(nameSkeleton('Paypa1'), nameSkeleton('PayPal'));
});

test('LOOK-ALIKE different names keep different skeletons', () => {
  for (const [a, b] of [
    ['Claude Desktop', 'Claude Code'],
    ['Claude', 'Claudia'],
    ['Cursor', 'Cursed'],
    ['GitHub', 'GitLab'],
  ] as const) {
    assert.notEqual(nameSkeleton(a), nameSkeleton(b), `${a} / ${b}`);
  }
});

test('LOOK-ALIKE mixed scripts: Latin with Cyrillic or Greek letters is flagged; one script, digits and symbols are not', () => {
  assert.deepEqual(mixedScripts('\u0421laude'), ['Cyrillic', 'Latin']);
  assert.deepEqual(mixedScripts('P\u03b1yPal'), ['Latin', 'Greek']);
  assert.equal(mixedScripts('Claude 3.5 — Desktop™'), null);
  assert.equal(mixedScripts('Яндекс Диск'), null, 'all Cyrillic is one script');
  assert.equal(mixedScripts('Ｃｌａｕｄｅ'), null, 'fullwidth Latin is Latin');
});

test('LOOK-ALIKE lookAlike names what a name imitates among the known names, and its scripts', () => {
  const known = [
    { name: 'Claude Desktop', kind: 'client' as const },
    { name: 'Acme Files', kind: 'resource' as const },
  ];
  assert.deepEqual(lookAlike('\u0421laude Desktop', known), { imitates: known[0], scripts: ['Cyrillic', 'Latin'] });
  assert.deepEqual(lookAlike('ACME files', known), { imitates: known[1], scripts: null });
  assert.deepEqual(lookAlike('W\u0435ather', known), { imitates: null, scripts: ['Latin', 'Cyrillic'] });
  assert.equal(lookAlike('Weather Helper', known), null);
  assert.equal(lookAlike('…', known), null, 'a name of punctuation alone imitates nothing');
});
