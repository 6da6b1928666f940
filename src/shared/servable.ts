/**
 * The answer of a write, checked against its response schema INSIDE the write's transaction.
 * The serializer checks it again after the handler, but by then the transaction has committed: a
 * row the schema refuses would be stored (and audited) while the caller is told 500. Thrown here,
 * the error rolls the write back, so nothing is committed whose answer cannot be served. The
 * database's CHECK constraints (migration 0009) keep such rows out in the first place; this is the
 * guarantee for whatever they cannot express.
 */
export class UnservableAnswer extends Error {
  constructor(readonly issues: unknown) {
    super('The changed record could not be represented in the answer; nothing was changed.');
  }
}

export function assertServable<T>(
  schema: { safeParse(value: unknown): { success: boolean; error?: unknown } },
  answer: T,
): T {
  const result = schema.safeParse(answer);
  if (!result.success) throw new UnservableAnswer(result.error);
  return answer;
}
