/**
 * Detection of invisible characters that smuggle instructions or data past a human reviewer into a model:
 * Unicode tag characters ("ASCII smuggling"), variation selectors (bytes hidden after a visible character),
 * zero-width and other default-ignorable characters, and bidirectional controls ("Trojan Source").
 *
 * Legitimate emoji use is allowed: RGI subdivision flags (tag sequences after U+1F3F4), one presentation selector
 * after an emoji or keycap base, and ZWJ between two pictographs of an emoji ZWJ sequence.
 */
import { Decision, allow, deny } from './decision';

/** The families of smuggling characters. */
export const SmugglingKind = {
  /** U+E0000–U+E007F, outside an allowed emoji flag tag sequence. */
  TAG: 'TAG',
  /** VS1–16 (U+FE00–FE0F), VS17–256 (U+E0100–E01EF) and the Mongolian free variation selectors. */
  VARIATION_SELECTOR: 'VARIATION_SELECTOR',
  /** Zero-width and other default-ignorable (invisible) characters: U+200B/C/D, U+2060–2064, U+FEFF, U+00AD, … */
  ZERO_WIDTH: 'ZERO_WIDTH',
  /** Bidirectional controls: U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C. */
  BIDI_CONTROL: 'BIDI_CONTROL',
} as const;
export type SmugglingKind = (typeof SmugglingKind)[keyof typeof SmugglingKind];

/** One smuggling character found in a text. */
export interface SmugglingFinding {
  readonly kind: SmugglingKind;
  /** UTF-16 index of the character in the text (as `String.prototype.codePointAt` takes it). */
  readonly index: number;
  /** The code point found. */
  readonly codePoint: number;
}

/** Which emoji tag sequences (U+1F3F4, tag letters, U+E007F CANCEL TAG) pass as legitimate flags. */
export const FlagTagPolicy = {
  /** Only the recommended (RGI) subdivision flags: England, Scotland, Wales. */
  RGI_ONLY: 'RGI_ONLY',
  /** Any well-formed subdivision code: two tag letters then one to four tag letters or digits. */
  WELL_FORMED: 'WELL_FORMED',
} as const;
export type FlagTagPolicy = (typeof FlagTagPolicy)[keyof typeof FlagTagPolicy];

/** Options of the text-safety functions; the defaults are the strictest. */
export interface TextSafetyOptions {
  /**
   * Which flag tag sequences are allowed.
   * @default FlagTagPolicy.RGI_ONLY
   */
  readonly flagTagSequences?: FlagTagPolicy;
  /**
   * Allow one ideographic variation selector (VS17–256) directly after a CJK ideograph, as Japanese names use.
   * @default false - every VS17–256 is a finding
   */
  readonly allowIdeographicVariationSequences?: boolean;
  /**
   * Allow ZWNJ (U+200C) and ZWJ (U+200D) directly between two characters of a script that needs them for correct
   * shaping (Arabic and Persian, Syriac, the Indic scripts, Sinhala, Mongolian, Khmer, Myanmar, Tibetan, N'Ko).
   * @default false - joiners are findings outside emoji ZWJ sequences
   */
  readonly allowScriptJoiners?: boolean;
}

/** Default-ignorable code points plus the listed families spelled out (they are all DI in Unicode 15+). */
const CANDIDATE = /[\p{Default_Ignorable_Code_Point}\u00AD\u034F\u061C\u115F\u1160\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\u{E0000}-\u{E0FFF}]/gu;
const EMOJI_AT = /\p{Emoji}/uy;
const PICTOGRAPH_AT = /\p{Extended_Pictographic}/uy;
const IDEOGRAPH_AT = /\p{Ideographic}/uy;
const JOINING_SCRIPT_AT =
  /[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}\p{Script=Mongolian}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}]/uy;

const WAVING_BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;
const ZWJ = 0x200d;
const ZWNJ = 0x200c;
const VS15 = 0xfe0e;
const VS16 = 0xfe0f;
const RGI_SUBDIVISIONS = new Set(['gbeng', 'gbsct', 'gbwls']);
const WELL_FORMED_SUBDIVISION = /^[a-z]{2}[a-z0-9]{1,4}$/;

function isTag(cp: number): boolean {
  return cp >= 0xe0000 && cp <= 0xe007f;
}

function kindOf(cp: number): SmugglingKind {
  if (isTag(cp)) return SmugglingKind.TAG;
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || (cp >= 0x180b && cp <= 0x180d) || cp === 0x180f) {
    return SmugglingKind.VARIATION_SELECTOR;
  }
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x200e || cp === 0x200f || cp === 0x061c) {
    return SmugglingKind.BIDI_CONTROL;
  }
  return SmugglingKind.ZERO_WIDTH;
}

function width(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

/** Index where the code point that ends just before `index` starts, or -1. */
function previousStart(text: string, index: number): number {
  if (index <= 0) return -1;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return index - 2;
  }
  return index - 1;
}

function matchesAt(re: RegExp, text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return false;
  re.lastIndex = index;
  return re.test(text);
}

function isModifier(cp: number | undefined): boolean {
  return cp !== undefined && cp >= 0x1f3fb && cp <= 0x1f3ff;
}

/** A ZWJ at `index` joins two pictographs of an emoji ZWJ sequence. */
function isEmojiZwj(text: string, index: number): boolean {
  if (!matchesAt(PICTOGRAPH_AT, text, index + 1)) return false;
  const p1 = previousStart(text, index);
  if (p1 < 0) return false;
  if (matchesAt(PICTOGRAPH_AT, text, p1)) return true;
  const cp = text.codePointAt(p1);
  if (cp === VS16 || isModifier(cp)) return matchesAt(PICTOGRAPH_AT, text, previousStart(text, p1));
  return false;
}

function isAllowedInContext(text: string, index: number, cp: number, options: TextSafetyOptions | undefined): boolean {
  if (cp === VS16 || cp === VS15) {
    // One presentation selector after an emoji or keycap base (❤️, 1️⃣); a second one follows a selector, not an emoji.
    return matchesAt(EMOJI_AT, text, previousStart(text, index));
  }
  if (cp === ZWJ && isEmojiZwj(text, index)) return true;
  if ((cp === ZWJ || cp === ZWNJ) && options?.allowScriptJoiners) {
    return matchesAt(JOINING_SCRIPT_AT, text, previousStart(text, index)) && matchesAt(JOINING_SCRIPT_AT, text, index + 1);
  }
  if (cp >= 0xe0100 && cp <= 0xe01ef && options?.allowIdeographicVariationSequences) {
    return matchesAt(IDEOGRAPH_AT, text, previousStart(text, index));
  }
  return false;
}

/** The tag run [start, end) is the tag spec and terminator of an allowed flag after U+1F3F4. */
function isAllowedFlagRun(text: string, start: number, end: number, options: TextSafetyOptions | undefined): boolean {
  if (start < 2 || text.codePointAt(start - 2) !== WAVING_BLACK_FLAG) return false;
  if (text.codePointAt(end - 2) !== CANCEL_TAG) return false;
  let spec = '';
  for (let i = start; i < end - 2; i += 2) {
    const cp = text.codePointAt(i) as number;
    const ascii = cp - 0xe0000;
    const isLower = ascii >= 0x61 && ascii <= 0x7a;
    const isDigit = ascii >= 0x30 && ascii <= 0x39;
    if (!isLower && !isDigit) return false;
    spec += String.fromCharCode(ascii);
    if (spec.length > 6) return false;
  }
  return (options?.flagTagSequences ?? FlagTagPolicy.RGI_ONLY) === FlagTagPolicy.WELL_FORMED
    ? WELL_FORMED_SUBDIVISION.test(spec)
    : RGI_SUBDIVISIONS.has(spec);
}

/** Scans `text`; calls `found` for each finding and stops early when it returns false. */
function scan(text: string, options: TextSafetyOptions | undefined, found: (f: SmugglingFinding) => boolean): void {
  const re = CANDIDATE;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const index = m.index;
    const cp = text.codePointAt(index) as number;
    if (isTag(cp)) {
      let end = index;
      while (end < text.length && isTag(text.codePointAt(end) as number)) end += 2;
      if (!isAllowedFlagRun(text, index, end, options)) {
        for (let i = index; i < end; i += 2) {
          if (!found({ kind: SmugglingKind.TAG, index: i, codePoint: text.codePointAt(i) as number })) return;
        }
      }
      re.lastIndex = end;
      continue;
    }
    if (!isAllowedInContext(text, index, cp, options)) {
      if (!found({ kind: kindOf(cp), index, codePoint: cp })) return;
    }
  }
}

/**
 * Every smuggling character in `text`, in order. Allowed (not reported): RGI subdivision flags (or any well-formed
 * one with {@link FlagTagPolicy.WELL_FORMED}), a single VS15/VS16 directly after an emoji or keycap base, a ZWJ
 * between two pictographs of an emoji ZWJ sequence, and what the options allow. Linear in the text length.
 */
export function findSmuggling(text: string, options?: TextSafetyOptions): SmugglingFinding[] {
  const findings: SmugglingFinding[] = [];
  scan(text, options, (f) => {
    findings.push(Object.freeze(f));
    return true;
  });
  return findings;
}

/** True when `text` has at least one smuggling character (stops at the first). */
export function hasSmuggling(text: string, options?: TextSafetyOptions): boolean {
  let any = false;
  scan(text, options, () => {
    any = true;
    return false;
  });
  return any;
}

/**
 * `text` without its smuggling characters (legitimate emoji sequences are kept). The result has no findings under
 * the same options. Returns `text` itself when there is nothing to strip.
 */
export function stripSmuggling(text: string, options?: TextSafetyOptions): string {
  const findings = findSmuggling(text, options);
  if (findings.length === 0) return text;
  let out = '';
  let from = 0;
  for (const f of findings) {
    out += text.slice(from, f.index);
    from = f.index + width(f.codePoint);
  }
  return out + text.slice(from);
}

/**
 * A decision for a text: `deny('SMUGGLED_CHARACTERS', <counts per kind>)` when it has smuggling characters,
 * otherwise `allow()`. The detail names only kinds and counts, never the text.
 */
export function screenForSmuggling(text: string, options?: TextSafetyOptions): Decision {
  const findings = findSmuggling(text, options);
  if (findings.length === 0) return allow();
  const counts = new Map<SmugglingKind, number>();
  for (const f of findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  const detail = [...counts].map(([kind, n]) => `${kind}=${n}`).join(' ');
  return deny('SMUGGLED_CHARACTERS', detail);
}
