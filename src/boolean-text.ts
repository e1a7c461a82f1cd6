/** The booleans Dalga accepts, in config files and API parameters alike (case-insensitive). */
const BOOLEANS: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

export const BOOLEAN_WORDS = 'true/false/1/0/yes/no/on/off';

/** The boolean, or undefined when the text is none of BOOLEAN_WORDS. */
export function parseBooleanText(text: string): boolean | undefined {
  // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
  const key = text.toLowerCase();
  return Object.hasOwn(BOOLEANS, key) ? BOOLEANS[key] : undefined;
}
