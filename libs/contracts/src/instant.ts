/**
 * An ISO 8601 instant: a date and a time of day with its time zone, `2026-01-31T09:30:00Z` or
 * `2026-01-31T10:30:00.250+01:00` (seconds and fractions optional; fractions beyond milliseconds are cut).
 * `undefined` for anything else, a date that does not exist included (`2026-02-30T00:00Z`), where `Date.parse`
 * would move on to the next month; and for a date without a time or a time without a zone, whose instant depends
 * on where it is read.
 */
export function parseInstant(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const match = INSTANT.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = match[8]!.toUpperCase();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const [h, m] = zone.slice(1).split(':').map(Number) as [number, number];
    if (h > 23 || m > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (h * 60 + m);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;
}
