import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { DomainError, SCHEDULE_EVERY, WEEKDAYS, type ScheduleEvery, type Weekday } from '@docflow/contracts';

/** When a schedule runs: a cron expression, or `every` with its options; always in a time zone. */
export interface Timing {
  cron: string | null;
  every: ScheduleEvery | null;
  at: string | null;
  dayOfWeek: Weekday | null;
  dayOfMonth: number | null;
  timezone: string;
}

export interface TimingInput {
  cron?: unknown;
  every?: unknown;
  at?: unknown;
  dayOfWeek?: unknown;
  dayOfMonth?: unknown;
  timezone?: unknown;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
const CRON_DAY_OF_WEEK: Record<Weekday, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};

/** The canonical IANA name of a time zone (`europe/berlin` → `Europe/Berlin`); 400 naming `timezone` otherwise. */
export function canonicalTimezone(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw DomainError.validation('timezone', 'is required: an IANA time zone such as Europe/Berlin');
  }
  if (value.length > 64 || !IANA_NAME.test(value)) {
    throw DomainError.validation('timezone', `"${value.slice(0, 64)}" is not an IANA time zone name`);
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw DomainError.validation('timezone', `unknown time zone "${value}"`);
  }
}

/**
 * Checks and normalises when a schedule runs. Every problem is a 400 naming its field: both or neither of
 * `cron` and `every`, a cron expression that does not parse or never fires, an unknown time zone, options
 * that do not belong to the chosen `every`.
 */
export function normalizeTiming(input: TimingInput): Timing {
  const timezone = canonicalTimezone(input.timezone);
  const hasCron = input.cron !== undefined && input.cron !== null;
  const hasEvery = input.every !== undefined && input.every !== null;
  if (hasCron && hasEvery) throw DomainError.validation('cron', 'give either cron or every, not both');
  if (!hasCron && !hasEvery) {
    throw DomainError.validation('every', 'give either every (daily, weekly, monthly) or a cron expression');
  }
  let timing: Timing;
  if (hasCron) {
    for (const field of ['at', 'dayOfWeek', 'dayOfMonth'] as const) {
      if (input[field] !== undefined && input[field] !== null) {
        throw DomainError.validation(field, 'only goes with every, not with cron');
      }
    }
    timing = {
      cron: checkCron(input.cron),
      every: null,
      at: null,
      dayOfWeek: null,
      dayOfMonth: null,
      timezone,
    };
  } else {
    const every = input.every as ScheduleEvery;
    if (!SCHEDULE_EVERY.includes(every)) {
      throw DomainError.validation('every', `must be one of ${SCHEDULE_EVERY.join(', ')}`);
    }
    const at = input.at ?? '00:00';
    if (typeof at !== 'string' || !HH_MM.test(at)) {
      throw DomainError.validation('at', 'must be a time of day HH:MM (24-hour), e.g. 09:30');
    }
    if (input.dayOfWeek !== undefined && every !== 'weekly') {
      throw DomainError.validation('dayOfWeek', 'only goes with every: weekly');
    }
    if (input.dayOfMonth !== undefined && every !== 'monthly') {
      throw DomainError.validation('dayOfMonth', 'only goes with every: monthly');
    }
    const dayOfWeek = every === 'weekly' ? (input.dayOfWeek ?? 'monday') : null;
    if (dayOfWeek !== null && !WEEKDAYS.includes(dayOfWeek as Weekday)) {
      throw DomainError.validation('dayOfWeek', `must be one of ${WEEKDAYS.join(', ')}`);
    }
    const dayOfMonth = every === 'monthly' ? (input.dayOfMonth ?? 1) : null;
    if (
      dayOfMonth !== null &&
      (!Number.isInteger(dayOfMonth) || Number(dayOfMonth) < 1 || Number(dayOfMonth) > 31)
    ) {
      throw DomainError.validation('dayOfMonth', 'must be a whole number from 1 to 31');
    }
    timing = {
      cron: null,
      every,
      at,
      dayOfWeek: dayOfWeek as Weekday | null,
      dayOfMonth: dayOfMonth as number | null,
      timezone,
    };
  }
  try {
    new SlotSeries(timing).next(new Date());
  } catch (error) {
    throw DomainError.validation(hasCron ? 'cron' : 'every', `never fires: ${(error as Error).message}`);
  }
  return timing;
}

function checkCron(value: unknown): string {
  if (typeof value !== 'string') throw DomainError.validation('cron', 'must be a string');
  const cron = value.trim().replace(/\s+/g, ' ');
  const fields = cron.split(' ');
  if (cron.length > 100 || fields.length !== 5) {
    throw DomainError.validation(
      'cron',
      'must have five fields: minute hour day-of-month month day-of-week (e.g. "30 6 * * 1-5")',
    );
  }
  // `H` picks a random value unless seeded, and slots must be the same whenever they are computed. No month
  // or day name starts with an H, so an H at the start of a value is the hash syntax.
  if (/(^|[\s,/-])h/i.test(cron))
    throw DomainError.validation('cron', 'the H (hash) syntax is not supported');
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' });
  } catch (error) {
    throw DomainError.validation(
      'cron',
      `"${cron}" is not a valid cron expression: ${(error as Error).message}`,
    );
  }
  return cron;
}

/** The cron expressions whose union is the timing's slots. */
export function timingExpressions(timing: Timing): string[] {
  if (timing.cron) return [timing.cron];
  const [hour, minute] = timing.at!.split(':').map(Number);
  switch (timing.every!) {
    case 'daily':
      return [`${minute} ${hour} * * *`];
    case 'weekly':
      return [`${minute} ${hour} * * ${CRON_DAY_OF_WEEK[timing.dayOfWeek!]}`];
    case 'monthly': {
      const day = timing.dayOfMonth!;
      // Day 29–31 means that day, or the month's last day in a shorter month (never skipping a month).
      if (day <= 28) return [`${minute} ${hour} ${day} * *`];
      if (day === 31) return [`${minute} ${hour} L * *`];
      return [`${minute} ${hour} ${day} * *`, `${minute} ${hour} L 2 *`];
    }
  }
}

/**
 * The slots of a timing, computed by cron-parser in the timing's time zone: a local time that a
 * daylight-saving change skips runs an hour later that day (02:30 → 03:30), one that occurs twice runs once
 * (at the first).
 */
export class SlotSeries {
  private readonly expressions: string[];

  constructor(private readonly timing: Timing) {
    this.expressions = timingExpressions(timing);
  }

  private parse(expression: string, currentDate: Date): CronExpression {
    return CronExpressionParser.parse(expression, { currentDate, tz: this.timing.timezone });
  }

  /** The first slot strictly after `after`. */
  next(after: Date): Date {
    let best: Date | undefined;
    for (const expression of this.expressions) {
      const candidate = this.parse(expression, after).next().toDate();
      if (!best || candidate < best) best = candidate;
    }
    return best!;
  }

  /** The next `count` slots after `after`. */
  upcoming(after: Date, count: number): Date[] {
    const out: Date[] = [];
    let cursor = after;
    for (let i = 0; i < count; i++) out.push((cursor = this.next(cursor)));
    return out;
  }

  /**
   * The latest slot in (`after`, `at`], or undefined. cron-parser's `prev()` may step over a slot that a
   * daylight-saving change moved, so it only gives a starting point; `next()` walks the rest of the way.
   */
  latestBetween(after: Date, at: Date): Date | undefined {
    let start = after;
    for (const expression of this.expressions) {
      try {
        const candidate = this.parse(expression, new Date(at.getTime() + 1))
          .prev()
          .toDate();
        // One slot back from the candidate, so a moved slot between the two is walked over, not skipped.
        const before = this.parse(expression, candidate).prev().toDate();
        if (before > start) start = before;
      } catch {
        // no earlier slot: walk from `after`
      }
    }
    let latest: Date | undefined;
    for (let slot = this.next(start), steps = 0; slot <= at && steps < 10_000; steps++) {
      latest = slot;
      slot = this.next(slot);
    }
    return latest;
  }
}
