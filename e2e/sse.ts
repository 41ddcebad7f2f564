// Reading a job's Server-Sent Events as a client does, shared by the e2e suites.
import { adminHeaders } from './platform';

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/**
 * Reads Server-Sent Events until `until` says stop (or the stream ends), signed in as the platform admin unless
 * `headers` has another authorization.
 */
export async function readEvents(
  url: string,
  until: (e: SseEvent) => boolean,
  headers: Record<string, string> = {},
): Promise<SseEvent[]> {
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...adminHeaders(), ...headers },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body!.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          frame
            .split('\n')
            .filter((l) => l && !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
        );
        if (!fields.event) continue;
        const event = { id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data ?? '{}') };
        events.push(event);
        if (until(event)) return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return events;
}
