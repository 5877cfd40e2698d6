// A conservative estimate of how guessable an API key is, to refuse weak ones at start. Pure.
//
// Each character costs log2 of the alphabet it was drawn from, except characters a guesser would
// predict: a repeat, a ±1 step or a keyboard neighbour of the previous one, the same step as before ("2468"), or a
// three-character run seen earlier in the key ("abcabc"). Those cost 1 bit. Word-like runs of 3+
// letters ("Password", "api", "key") cost at most 1.8 bits a letter, about what a dictionary attack pays.
// The alphabet is the smallest usual one holding every character (digits, hex, letters, base64,
// printable ASCII), shrunk when the key uses only a few distinct characters.

/**
 * Keys below this estimate are refused. `openssl rand -hex 24` scores 158 on average (lowest of
 * 100,000: 110), `openssl rand -base64 24` 149 (lowest of 100,000: 73), "password12345678" 25.
 */
export const MIN_API_KEY_BITS = 56;

const WORD_LETTER_BITS = 1.8;
/** Neighbours on a keyboard row ("qwerty", "asdf") are as predictable as "abc". */
const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'qwertzuiop', 'azertyuiop', 'yxcvbnm'];

function keyboardNeighbours(a: string, b: string): boolean {
  const pair = `${a}${b}`.toLowerCase();
  const reversed = `${b}${a}`.toLowerCase();
  return KEYBOARD_ROWS.some((row) => row.includes(pair) || row.includes(reversed));
}

function alphabetSize(key: string): number {
  if (/^[0-9]+$/.test(key)) return 10;
  if (/^[0-9a-f]+$/.test(key) || /^[0-9A-F]+$/.test(key)) return 16;
  const lower = /[a-z]/.test(key) ? 26 : 0;
  const upper = /[A-Z]/.test(key) ? 26 : 0;
  const digit = /[0-9]/.test(key) ? 10 : 0;
  const others = key.replace(/[A-Za-z0-9]/g, '');
  // base64 and base64url use two symbols (plus '=' padding); anything else could be any of 33.
  const symbol = others === '' ? 0 : /^[+/=_-]+$/.test(others) ? 3 : /[^\x20-\x7e]/.test(others) ? 100 : 33;
  return lower + upper + digit + symbol;
}

/** Estimated bits of guessing work for this key (conservative: lower than the truth for random keys). */
export function estimateKeyBits(key: string): number {
  const chars = [...key];
  const distinct = new Set(chars).size;
  const alphabet = Math.max(2, Math.min(alphabetSize(key), distinct * 2));
  const freshBits = Math.log2(alphabet);
  const codes = chars.map((c) => c.codePointAt(0)!);
  const inWord = wordLetters(key);
  const seenTrigrams = new Set<string>();
  let bits = 0;
  for (let i = 0; i < chars.length; i++) {
    const step = i > 0 ? codes[i]! - codes[i - 1]! : null;
    const previousStep = i > 1 ? codes[i - 1]! - codes[i - 2]! : null;
    let predictable = step !== null && (Math.abs(step) <= 1 || step === previousStep || keyboardNeighbours(chars[i - 1]!, chars[i]!));
    if (i >= 2) {
      const trigram = chars.slice(i - 2, i + 1).join('');
      if (seenTrigrams.has(trigram)) predictable = true;
      seenTrigrams.add(trigram);
    }
    bits += predictable ? 1 : inWord[i] ? Math.min(freshBits, WORD_LETTER_BITS) : freshBits;
  }
  return bits;
}

/** Marks letters inside runs of 3+ letters that read like a word: one case (or Capitalised), pronounceable. */
function wordLetters(key: string): boolean[] {
  const marks = Array<boolean>(key.length).fill(false);
  // In a mixed-case key an all-caps run reads as a word only standing alone ("APIKEY-..."); else it is noise.
  const words = /[a-z]/.test(key) ? /[A-Z]?[a-z]{2,}|(?<![A-Za-z])[A-Z]{3,}(?![A-Za-z])/g : /[A-Z]{3,}/g;
  for (const m of key.matchAll(words)) {
    // Random letters rarely read like a word: a word has a vowel and no four consonants in a row.
    if (m[0].length < 3 || !/[aeiouy]/i.test(m[0]) || /[^aeiouy]{4}/i.test(m[0])) continue;
    for (let i = m.index; i < m.index + m[0].length; i++) marks[i] = true;
  }
  return marks;
}

/** Why a key is too weak to use, in words fit for the start-up error; null when it is fine. */
export function weakKeyReason(key: string): string | null {
  const bits = estimateKeyBits(key);
  if (bits >= MIN_API_KEY_BITS) return null;
  return (
    `the API key is too easy to guess (about ${Math.floor(bits)} bits of randomness; at least ${MIN_API_KEY_BITS} are needed — ` +
    'repeated characters, sequences, words and short alphabets count for little). ' +
    'Make one with `openssl rand -hex 24`.'
  );
}
