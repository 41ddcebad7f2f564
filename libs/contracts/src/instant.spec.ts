import { parseInstant } from './instant';

describe(parseInstant.name, () => {
  it.each([
    ['2026-01-31T09:30:00Z', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T09:30Z', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31t09:30:00z', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T10:30:00.25+01:00', '2026-01-31T09:30:00.250Z'],
    ['2026-01-31T04:00:00.123456789-05:30', '2026-01-31T09:30:00.123Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2026-01-01T00:30:00+01:00', '2025-12-31T23:30:00.000Z'],
    ['0099-06-01T00:00:00Z', '0099-06-01T00:00:00.000Z'],
  ])('reads %s as %s', (value, expected) => {
    expect(parseInstant(value)?.toISOString()).toBe(expected);
  });

  it.each([
    '2026-02-30T00:00:00Z', // no such day (Date.parse says March 2)
    '2025-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-31', // a date: which instant depends on the zone
    '2026-01-31T09:30:00', // no zone
    '2026-01-31 09:30:00Z',
    '1769852400000',
    'yesterday',
    '',
    ' 2026-01-31T09:30:00Z',
    '2026-01-31T09:30:00Z ',
    '+002026-01-31T09:30:00Z',
  ])('refuses %j', (value) => {
    expect(parseInstant(value)).toBeUndefined();
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 1769852400000, new Date(), ['2026-01-31T09:30:00Z']])
      expect(parseInstant(value)).toBeUndefined();
  });
});
