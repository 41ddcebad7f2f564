import { requestIdFrom } from './request-context';

describe(requestIdFrom.name, () => {
  it.each([['abc-123'], ['01HZX:9.a_b']])('keeps a plain token %s', (id) => {
    expect(requestIdFrom(id)).toBe(id);
  });

  it.each([[undefined], [''], ['has space'], ['a\nb'], ['x'.repeat(129)], [42]])(
    'replaces %p with a fresh uuid',
    (candidate) => {
      expect(requestIdFrom(candidate)).toMatch(/^[0-9a-f-]{36}$/);
    },
  );
});
