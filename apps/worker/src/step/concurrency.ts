/**
 * Runs `fn` over `items` with at most `limit` at a time, keeping results in input order. (Nine lines; the
 * well-known package for this, p-limit, is ESM-only since v4 and this workspace compiles to CommonJS.)
 */
export async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
