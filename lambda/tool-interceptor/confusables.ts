/**
 * Look-alike detection for tool names and text: a "skeleton" in the spirit of Unicode TS #39 (confusable
 * detection), reduced to what tool names need, and a mixed-script word finder. Pure.
 *
 * Two names are look-alikes when their skeletons are equal but the names are not: `read_file` and `read_fiIe`,
 * `send_email` and `send-emaiI`, `gеt_user` (Cyrillic е) and `get_user`, `rn` and `m`.
 */

/** Letters of other scripts (and Latin variants) that render like a Latin letter, mapped to that letter. */
const CONFUSABLE_LETTERS: Readonly<Record<string, string>> = {
  // Cyrillic lower case
  а: 'a', в: 'b', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k', ӏ: 'l', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c',
  т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ɡ: 'g', ү: 'y', ҫ: 'c', ӕ: 'ae', ь: 'b', г: 'r', п: 'n', л: 'n',
  // Cyrillic upper case
  А: 'a', В: 'b', Е: 'e', Ё: 'e', Н: 'h', І: 'i', Ї: 'i', Ј: 'j', К: 'k', М: 'm', О: 'o', Р: 'p', С: 'c', Т: 't', У: 'y',
  Х: 'x', Ѕ: 's', Ԁ: 'd', Ԛ: 'q', Ԝ: 'w', Ү: 'y', Ӏ: 'l', Ь: 'b', З: '3', Ч: '4',
  // Greek
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', σ: 'o', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  Α: 'a', Β: 'b', Ε: 'e', Ζ: 'z', Η: 'h', Ι: 'i', Κ: 'k', Μ: 'm', Ν: 'n', Ο: 'o', Ρ: 'p', Τ: 't', Υ: 'y', Χ: 'x',
  ϲ: 'c', ϳ: 'j', ϴ: 'o', ϵ: 'e',
  // Armenian
  ա: 'w', գ: 'q', հ: 'h', ո: 'n', ս: 'u', օ: 'o', ց: 'g', ք: 'p', Օ: 'o', Ս: 'u',
  // Cherokee (upper-case only; they look like Latin capitals)
  Ꭺ: 'a', Ᏼ: 'b', Ꮯ: 'c', Ꭼ: 'e', Ꮋ: 'h', Ꮖ: 'i', Ꭻ: 'j', Ꮶ: 'k', Ꮮ: 'l', Ꮇ: 'm', Ꮎ: 'o', Ꮲ: 'p', Ꮪ: 's', Ꭲ: 't', Ꮩ: 'v', Ꮃ: 'w', Ꮓ: 'z',
  // Latin variants not folded by NFKC
  ı: 'i', ȷ: 'j', ɑ: 'a', ɩ: 'i', ʟ: 'l', ɪ: 'i', ʀ: 'r', ʏ: 'y', ᴀ: 'a', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ᴋ: 'k', ᴍ: 'm', ᴏ: 'o', ᴘ: 'p',
  ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ᴢ: 'z', ƅ: 'b', ɢ: 'g', ʜ: 'h', ɴ: 'n', ꜱ: 's', ß: 'ss', ł: 'l', ø: 'o', đ: 'd', ħ: 'h',
};

/** Digits and symbols that stand in for letters in names (after lower-casing). */
const NAME_SUBSTITUTES: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'l',
  i: 'l',
  '|': 'l',
  '!': 'l',
  '5': 's',
  $: 's',
  '3': 'e',
  '@': 'a',
};

const COMBINING = /\p{M}/gu;
const SEPARATORS = /[\s_.\-‐-―·•]/gu;

/** Folds confusable letters of other scripts to Latin, keeping everything else; lower-cases the result. */
export function foldConfusables(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFKC')) out += CONFUSABLE_LETTERS[ch] ?? ch;
  return out.toLowerCase();
}

/**
 * The skeleton of a name: NFKC, confusable letters folded to Latin, lower case, accents removed, separators
 * (`_ - .` and spaces) removed, look-alike digits and symbols folded (`0`→o, `1`/`i`/`|`→l, `5`→s, `3`→e),
 * and the letter pairs `rn`→m, `vv`→w, `cl`→d folded.
 */
export function skeleton(name: string): string {
  let t = foldConfusables(name).normalize('NFD').replace(COMBINING, '');
  t = foldConfusables(t).replace(SEPARATORS, '');
  let out = '';
  for (const ch of t) out += NAME_SUBSTITUTES[ch] ?? ch;
  return out.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/cl/g, 'd');
}

/** True when two different names have the same skeleton. */
export function areLookalikes(a: string, b: string): boolean {
  return a !== b && skeleton(a) === skeleton(b);
}

/** Groups of names (two or more) that share a skeleton, in first-seen order. Identical duplicates count too. */
export function skeletonCollisions(names: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const key = skeleton(name);
    const group = groups.get(key);
    if (group) group.push(name);
    else groups.set(key, [name]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

const SCRIPTS: ReadonlyArray<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
];
const WORD = /[\p{L}\p{M}]+/gu;

/** Number of words in `text` that mix Latin with Cyrillic, Greek, Armenian or Cherokee letters (`pаypal`). */
export function countMixedScriptWords(text: string): number {
  let count = 0;
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    const word = m[0];
    if (word.length < 2) continue;
    let scripts = 0;
    for (const [, re] of SCRIPTS) if (re.test(word)) scripts++;
    if (scripts > 1) count++;
  }
  return count;
}
