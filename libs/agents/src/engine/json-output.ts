/** Merges the JSON objects extracted from the chunks of one document: the first non-null value of each field wins,
 * lists are concatenated without duplicates, nested objects are merged the same way. */
export function mergeJson(values: unknown[]): unknown {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return null;
  if (present.every((v) => Array.isArray(v))) {
    const seen = new Set<string>();
    return (present as unknown[][]).flat().filter((item) => {
      const key = JSON.stringify(item);
      return !seen.has(key) && seen.add(key);
    });
  }
  if (present.every((v) => typeof v === 'object' && !Array.isArray(v))) {
    const keys = [...new Set(present.flatMap((v) => Object.keys(v as object)))];
    return Object.fromEntries(
      keys.map((k) => [k, mergeJson(present.map((v) => (v as Record<string, unknown>)[k]))]),
    );
  }
  return present[0];
}
