/** numeric columns travel as strings in the drivers; the API speaks JSON numbers. */
export function decimalToNumber(value: string | null): number | null {
  if (value === null) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** JSON numbers to numeric text. String(n) is exact for doubles and PostgreSQL parses "1e-7". */
export function numberToDecimal(value: number | null | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

export const iso = (d: Date) => d.toISOString();
