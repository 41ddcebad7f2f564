import { DomainError } from '@docflow/contracts';

/** Keyset pagination position: rows are ordered by (createdAt DESC, id DESC). */
export interface CursorPosition {
  createdAt: Date;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(createdAt));
    const time = date.getTime();
    // Within what PostgreSQL's timestamptz holds comfortably; anything else was not made by us.
    const inRange = time >= Date.UTC(2000, 0, 1) && time <= Date.UTC(9999, 0, 1);
    if (typeof createdAt !== 'string' || !inRange || typeof id !== 'string' || !UUID.test(id)) {
      throw new Error('bad cursor');
    }
    return { createdAt: date, id: id.toLowerCase() };
  } catch {
    throw DomainError.validation('cursor', 'is not a cursor returned by this API');
  }
}

/**
 * A page from `limit + 1` rows read after the cursor: the extra row only tells that another page exists.
 */
export function toPage<Row extends CursorPosition, Item>(
  rows: Row[],
  limit: number,
  map: (row: Row) => Item,
): { items: Item[]; nextCursor?: string } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    ...(rows.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
  };
}
