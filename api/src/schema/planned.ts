/**
 * Pothos plans `{ select: {} }` for a Prisma field whose selection is only `__typename` (e.g. a
 * mutation asked for nothing but its result's type); Prisma refuses an empty select. Every model has
 * an `id`, so that is what such a query reads.
 */
export function planned<T extends object>(query: T): T {
  const select = (query as { select?: object }).select;
  return select && Object.keys(select).length === 0 ? { ...query, select: { id: true } } : query;
}
