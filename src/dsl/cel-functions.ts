/**
 * Functions idflow adds to CEL, registered identically in the compile-time (typed) and run-time
 * environments so that what type-checks also evaluates. All pure and deterministic: they run
 * inside workflows.
 */
import type { Environment } from '@marcbachmann/cel-js';

/** Letters that Unicode decomposition does not reduce to ASCII, as used in usernames. */
const FOLD: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  þ: 'th',
  Þ: 'Th',
};

/** `"Zoë Ørsted".asciiFold()` → `"Zoe Orsted"`: accents dropped, ligatures spelled out. */
export function asciiFold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[ßæÆœŒøØłŁđĐþÞ]/g, (c) => FOLD[c] ?? c);
}

export function registerIdflowFunctions(env: Environment): Environment {
  return env
    .registerFunction({
      name: 'replace',
      receiverType: 'string',
      returnType: 'string',
      handler: (text: string, search: string, replacement: string) =>
        text.split(search).join(replacement),
      params: [
        { name: 'search', type: 'string' },
        { name: 'replacement', type: 'string' },
      ],
      description: 'Replaces every occurrence of search with replacement.',
    })
    .registerFunction({
      name: 'asciiFold',
      receiverType: 'string',
      returnType: 'string',
      handler: (text: string) => asciiFold(text),
      params: [],
      description: 'Drops accents and spells out ligatures, for usernames and mail addresses.',
    });
}
