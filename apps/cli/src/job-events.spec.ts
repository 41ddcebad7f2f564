import { ApiClient } from './api-client';
import { TokenCredentials } from './credentials';
import { ExitCode } from './errors';
import { followJobEvents, type JobStreamEvent } from './job-events';
import { FakeApi, apiError, send } from './testing/fake-api';

const PATH = '/jobs/j/events';

describe(followJobEvents.name, () => {
  let api: FakeApi;
  let sut: ApiClient;
  let reconnects: string[];
  let events: JobStreamEvent[];

  beforeEach(async () => {
    api = new FakeApi();
    await api.start();
    sut = new ApiClient({
      baseUrl: api.url,
      credentials: new TokenCredentials('dfp_t'),
      sleep: async () => undefined,
    });
    reconnects = [];
    events = [];
  });

  afterEach(() => api.stop());

  const follow = (options: { maxReconnects?: number; idleTimeoutMs?: number } = {}) =>
    followJobEvents(sut, PATH, {
      onEvent: (e) => events.push(e),
      onReconnect: (attempt, last, reason) => reconnects.push(`${attempt} ${last} ${reason}`),
      ...options,
    });

  it('resumes after the last event id on each new connection until the final event', async () => {
    let n = 0;
    api.on(`GET ${PATH}`, (_request, response) => {
      n++;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      // Each connection sends one event (split across writes), then ends without the final one, until the third.
      const id = n;
      const type = n === 3 ? 'job_completed' : 'stage_progress';
      response.write(`id: ${id}\nevent: ${type}\n`);
      response.write(`data: {"n":${id}}\n\n`);
      response.end();
    });
    const result = await follow();
    expect(events.map((e) => [e.id, e.type, e.data.n])).toEqual([
      ['1', 'stage_progress', 1],
      ['2', 'stage_progress', 2],
      ['3', 'job_completed', 3],
    ]);
    expect(result).toMatchObject({ lastEventId: '3', terminal: { type: 'job_completed' } });
    expect(api.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '1', '2']);
    expect(api.requests.every((r) => r.headers.authorization === 'Bearer dfp_t')).toBe(true);
    expect(reconnects).toEqual([
      '1 1 the stream ended before the job did',
      '1 2 the stream ended before the job did',
    ]);
  });

  it('ends on a 204 (the job had ended, nothing after the last event)', async () => {
    let n = 0;
    api.on(`GET ${PATH}`, (_request, response) => {
      if (++n > 1) return send(response, 204, undefined);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end('id: 7\nevent: doc_completed\ndata: {}\n\n');
    });
    expect(await follow()).toEqual({ lastEventId: '7' });
    expect(api.requests[1]!.headers['last-event-id']).toBe('7');
  });

  it('counts a silent connection as dropped and reconnects', async () => {
    let n = 0;
    api.on(`GET ${PATH}`, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (++n === 1) response.write('id: 1\nevent: job_started\ndata: {}\n\n');
      else response.end('id: 2\nevent: job_failed\ndata: {}\n\n');
      // The first connection then says nothing more and stays open.
    });
    const result = await follow({ idleTimeoutMs: 200 });
    expect(result.terminal?.type).toBe('job_failed');
    expect(reconnects).toEqual(['1 1 no data (not even a heartbeat)']);
  });

  it('gives up (exit 5) after the allowed reconnections in a row without an event, retrying 503s on the way', async () => {
    api.json(`GET ${PATH}`, 503, apiError('SERVICE_UNAVAILABLE', 'The event stream is unavailable'));
    await expect(follow({ maxReconnects: 3 })).rejects.toMatchObject({
      exitCode: ExitCode.UNAVAILABLE,
      message: expect.stringContaining('gave up after 3 reconnections'),
    });
    expect(reconnects).toHaveLength(3);
  });

  it('does not retry what retrying cannot fix: an unknown job is exit 4 at once', async () => {
    api.json(`GET ${PATH}`, 404, apiError('NOT_FOUND', 'Job not found'));
    await expect(follow()).rejects.toMatchObject({ exitCode: ExitCode.NOT_FOUND });
    expect(api.requests).toHaveLength(1);
  });
});
