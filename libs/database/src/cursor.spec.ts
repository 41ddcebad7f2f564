import { ErrorCode } from '@docflow/contracts';
import { decodeCursor, encodeCursor } from './cursor';

describe('cursor', () => {
  it('round-trips a position', () => {
    const position = {
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      id: '3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f',
    };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it.each([
    ['garbage'],
    [''],
    [Buffer.from('[1,2]').toString('base64url')],
    [Buffer.from('["x","y"]').toString('base64url')],
    [
      Buffer.from('["-200000-01-01T00:00:00.000Z","3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"]').toString(
        'base64url',
      ),
    ],
    [
      Buffer.from('["+275760-09-13T00:00:00.000Z","3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"]').toString(
        'base64url',
      ),
    ],
  ])('rejects %p as a validation error on the cursor field', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(
      expect.objectContaining({ code: ErrorCode.VALIDATION_FAILED }),
    );
  });
});
