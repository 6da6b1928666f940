/** numeric columns travel as strings in the drivers; the API speaks JSON numbers. */
export function decimalToNumber(value: string | null): number | null {
  if (value === null) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * Whether numeric text is already the spelling JavaScript gives its number (`${Number(text)}`), so a
 * writer can copy it instead of parsing and printing a double: an optional minus (not on zero), no
 * leading zeros, no trailing zeros after the point, at most 15 significant digits (distinct such
 * decimals are distinct doubles, so the double's shortest spelling is the text itself), below 1e21 and
 * at least 1e-6 (outside, JavaScript writes an exponent). Anything else answers false, never wrongly true.
 */
export function isNumberSpelling(text: string): boolean {
  const n = text.length;
  const start = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
  let i = start;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intLength = i - start;
  if (intLength === 0 || intLength > 21) return false;
  const zero = text.charCodeAt(start) === 48;
  if (zero && intLength > 1) return false;
  if (i === n) return intLength <= 15 && !(zero && start === 1);
  if (text.charCodeAt(i) !== 46 || i === n - 1 || text.charCodeAt(n - 1) === 48) return false; // '.', '0'
  let significant = zero ? 0 : intLength;
  let leadingZeros = 0;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return false;
    if (significant > 0 || c !== 48) significant++;
    else leadingZeros++;
  }
  return significant <= 15 && leadingZeros <= 5;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** JSON numbers to numeric text. String(n) is exact for doubles and PostgreSQL parses "1e-7". */
export function numberToDecimal(value: number | null | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

export const iso = (d: Date) => d.toISOString();
