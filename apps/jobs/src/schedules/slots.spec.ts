import { DomainError, type FieldError } from '@docflow/contracts';
import { SlotSeries, canonicalTimezone, normalizeTiming, timingExpressions, type TimingInput } from './slots';
import { planClaim } from './scheduler';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const at = (value: string) => new Date(value);

function series(input: TimingInput): SlotSeries {
  return new SlotSeries(normalizeTiming(input));
}

/** The field a validation error names. */
function rejectedField(input: TimingInput): string {
  try {
    normalizeTiming(input);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return ((error as DomainError).details as FieldError[])[0]!.field;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

describe(SlotSeries.name, () => {
  describe('daylight-saving time (Europe/Berlin)', () => {
    it('keeps 09:00 local time across the spring change: 08:00Z in winter, 07:00Z in summer', () => {
      const sut = series({ every: 'daily', at: '09:00', timezone: 'Europe/Berlin' });
      expect(iso(sut.upcoming(at('2026-03-27T12:00:00Z'), 3))).toEqual([
        '2026-03-28T08:00:00.000Z',
        '2026-03-29T07:00:00.000Z',
        '2026-03-30T07:00:00.000Z',
      ]);
    });

    it('runs a time the spring change skips (02:30) one hour later that day, and only once', () => {
      const sut = series({ every: 'daily', at: '02:30', timezone: 'Europe/Berlin' });
      expect(iso(sut.upcoming(at('2026-03-27T12:00:00Z'), 3))).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:30:00.000Z', // 03:30 CEST: 02:30 does not exist that night
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('runs a time that occurs twice in the autumn change (02:30) once, at the first', () => {
      const sut = series({ every: 'daily', at: '02:30', timezone: 'Europe/Berlin' });
      expect(iso(sut.upcoming(at('2026-10-24T12:00:00Z'), 3))).toEqual([
        '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET an hour later is not a second slot
        '2026-10-26T01:30:00.000Z',
        '2026-10-27T01:30:00.000Z',
      ]);
    });

    it('gives an hourly cron both 02:00 hours of the autumn night (they are different instants)', () => {
      const sut = series({ cron: '0 * * * *', timezone: 'Europe/Berlin' });
      expect(iso(sut.upcoming(at('2026-10-24T23:30:00Z'), 4))).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T01:00:00.000Z', // 02:00 CET
        '2026-10-25T02:00:00.000Z',
        '2026-10-25T03:00:00.000Z',
      ]);
    });

    it('finds the latest slot before a time even where the spring change moved it', () => {
      const sut = series({ every: 'daily', at: '02:30', timezone: 'Europe/Berlin' });
      // cron-parser's prev() alone steps over 2026-03-29T01:30Z (03:30 CEST)
      expect(sut.latestBetween(at('2026-03-20T00:00:00Z'), at('2026-03-29T02:00:00Z'))?.toISOString()).toBe(
        '2026-03-29T01:30:00.000Z',
      );
    });
  });

  describe('monthly', () => {
    it('on day 31 runs on the last day of shorter months, never skipping one', () => {
      const sut = series({ every: 'monthly', dayOfMonth: 31, at: '06:00', timezone: 'UTC' });
      expect(iso(sut.upcoming(at('2027-01-01T00:00:00Z'), 5))).toEqual([
        '2027-01-31T06:00:00.000Z',
        '2027-02-28T06:00:00.000Z',
        '2027-03-31T06:00:00.000Z',
        '2027-04-30T06:00:00.000Z',
        '2027-05-31T06:00:00.000Z',
      ]);
    });

    it('on day 30 runs on 30th, and on the last day of February (29th in a leap year)', () => {
      const sut = series({ every: 'monthly', dayOfMonth: 30, timezone: 'UTC' });
      expect(iso(sut.upcoming(at('2028-01-01T00:00:00Z'), 3))).toEqual([
        '2028-01-30T00:00:00.000Z',
        '2028-02-29T00:00:00.000Z',
        '2028-03-30T00:00:00.000Z',
      ]);
    });

    it('on day 29 runs once in a leap February and on the 28th otherwise', () => {
      const sut = series({ every: 'monthly', dayOfMonth: 29, timezone: 'UTC' });
      expect(iso(sut.upcoming(at('2028-02-01T00:00:00Z'), 2))).toEqual([
        '2028-02-29T00:00:00.000Z',
        '2028-03-29T00:00:00.000Z',
      ]);
      expect(iso(sut.upcoming(at('2027-02-01T00:00:00Z'), 2))).toEqual([
        '2027-02-28T00:00:00.000Z',
        '2027-03-29T00:00:00.000Z',
      ]);
    });

    it('follows the time zone across midnight UTC (the 1st at 00:30 in Berlin is the last day at 23:30Z)', () => {
      const sut = series({ every: 'monthly', at: '00:30', timezone: 'Europe/Berlin' });
      expect(iso(sut.upcoming(at('2026-01-15T00:00:00Z'), 2))).toEqual([
        '2026-01-31T23:30:00.000Z',
        '2026-02-28T23:30:00.000Z',
      ]);
    });
  });

  it('weekly on a named day, in its zone (Friday 17:00 in New York)', () => {
    const sut = series({ every: 'weekly', dayOfWeek: 'friday', at: '17:00', timezone: 'America/New_York' });
    expect(iso(sut.upcoming(at('2026-11-23T00:00:00Z'), 2))).toEqual([
      '2026-11-27T22:00:00.000Z',
      '2026-12-04T22:00:00.000Z',
    ]);
  });

  it('finds the latest of many missed slots without walking each of them', () => {
    const sut = series({ cron: '* * * * *', timezone: 'UTC' });
    expect(sut.latestBetween(at('2026-01-01T00:00:00Z'), at('2026-01-20T10:15:30Z'))?.toISOString()).toBe(
      '2026-01-20T10:15:00.000Z',
    );
    expect(sut.latestBetween(at('2026-01-20T10:15:00Z'), at('2026-01-20T10:15:30Z'))).toBeUndefined();
  });

  it('maps every to cron expressions', () => {
    expect(timingExpressions(normalizeTiming({ every: 'daily', timezone: 'UTC' }))).toEqual(['0 0 * * *']);
    expect(timingExpressions(normalizeTiming({ every: 'weekly', at: '07:05', timezone: 'UTC' }))).toEqual([
      '5 7 * * 1',
    ]);
    expect(
      timingExpressions(normalizeTiming({ every: 'monthly', dayOfMonth: 30, at: '23:59', timezone: 'UTC' })),
    ).toEqual(['59 23 30 * *', '59 23 L 2 *']);
  });
});

describe(normalizeTiming.name, () => {
  it('names the field of each problem', () => {
    expect(rejectedField({ cron: '0 9 * * *', every: 'daily', timezone: 'UTC' })).toBe('cron');
    expect(rejectedField({ timezone: 'UTC' })).toBe('every');
    expect(rejectedField({ cron: '0 9 * *', timezone: 'UTC' })).toBe('cron');
    expect(rejectedField({ cron: '0 0 9 * * *', timezone: 'UTC' })).toBe('cron');
    expect(rejectedField({ cron: '61 9 * * *', timezone: 'UTC' })).toBe('cron');
    expect(rejectedField({ cron: 'H 9 * * *', timezone: 'UTC' })).toBe('cron');
    expect(rejectedField({ cron: '0 0 30 2 *', timezone: 'UTC' })).toBe('cron');
    expect(rejectedField({ cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons' })).toBe('timezone');
    expect(rejectedField({ cron: '0 9 * * *', timezone: '+02:00' })).toBe('timezone');
    expect(rejectedField({ cron: '0 9 * * *' })).toBe('timezone');
    expect(rejectedField({ cron: '0 9 * * *', at: '09:00', timezone: 'UTC' })).toBe('at');
    expect(rejectedField({ every: 'hourly', timezone: 'UTC' })).toBe('every');
    expect(rejectedField({ every: 'daily', at: '24:00', timezone: 'UTC' })).toBe('at');
    expect(rejectedField({ every: 'daily', at: '9:00', timezone: 'UTC' })).toBe('at');
    expect(rejectedField({ every: 'daily', dayOfWeek: 'monday', timezone: 'UTC' })).toBe('dayOfWeek');
    expect(rejectedField({ every: 'weekly', dayOfWeek: 'funday', timezone: 'UTC' })).toBe('dayOfWeek');
    expect(rejectedField({ every: 'weekly', dayOfMonth: 3, timezone: 'UTC' })).toBe('dayOfMonth');
    expect(rejectedField({ every: 'monthly', dayOfMonth: 32, timezone: 'UTC' })).toBe('dayOfMonth');
    expect(rejectedField({ every: 'monthly', dayOfMonth: 1.5, timezone: 'UTC' })).toBe('dayOfMonth');
  });

  it('accepts cron with names and ranges, and canonical time zone names', () => {
    expect(normalizeTiming({ cron: ' 30  6 * JAN-MAR mon-fri ', timezone: 'europe/berlin' })).toEqual({
      cron: '30 6 * JAN-MAR mon-fri',
      every: null,
      at: null,
      dayOfWeek: null,
      dayOfMonth: null,
      timezone: 'Europe/Berlin',
    });
    expect(canonicalTimezone('UTC')).toBe('UTC');
    expect(normalizeTiming({ every: 'weekly', timezone: 'Asia/Kolkata' })).toMatchObject({
      at: '00:00',
      dayOfWeek: 'monday',
    });
  });
});

describe(planClaim.name, () => {
  const daily = normalizeTiming({ every: 'daily', at: '03:00', timezone: 'Europe/Berlin' });
  const grace = 300_000;

  it('claims the due slot when it is on time, and moves to the next one', () => {
    const plan = planClaim(daily, 'latest', at('2026-06-10T01:00:00Z'), at('2026-06-10T01:00:04Z'), grace);
    expect(plan).toEqual({ slotAt: at('2026-06-10T01:00:00Z'), nextRunAt: at('2026-06-11T01:00:00Z') });
  });

  it('after three days down, claims only the latest missed slot (catchUp: latest)', () => {
    const plan = planClaim(daily, 'latest', at('2026-06-10T01:00:00Z'), at('2026-06-13T09:00:00Z'), grace);
    expect(plan).toEqual({ slotAt: at('2026-06-13T01:00:00Z'), nextRunAt: at('2026-06-14T01:00:00Z') });
  });

  it('records the latest missed slot as missed with catchUp: skip, and runs a slot within the grace', () => {
    const late = planClaim(daily, 'skip', at('2026-06-10T01:00:00Z'), at('2026-06-13T09:00:00Z'), grace);
    expect(late).toMatchObject({
      slotAt: at('2026-06-13T01:00:00Z'),
      nextRunAt: at('2026-06-14T01:00:00Z'),
      record: { status: 'missed' },
    });
    const onTime = planClaim(daily, 'skip', at('2026-06-13T01:00:00Z'), at('2026-06-13T01:04:00Z'), grace);
    expect(onTime.record).toBeUndefined();
  });

  it('claims a runNow instant (not a slot of the schedule) as its own slot', () => {
    const created = at('2026-06-10T12:34:56.789Z');
    const plan = planClaim(daily, 'latest', created, at('2026-06-10T12:34:57Z'), grace);
    expect(plan).toEqual({ slotAt: created, nextRunAt: at('2026-06-11T01:00:00Z') });
  });
});
