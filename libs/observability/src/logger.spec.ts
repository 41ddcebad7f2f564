import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { runWithRequestContext } from './request-context';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination };
}

describe(createLogger.name, () => {
  it('redacts authorization headers, tokens, keys and presigned URLs', async () => {
    const { lines, destination } = capture();
    const sut = createLogger({ service: 'test', destination });
    sut.info({
      headers: { authorization: 'Bearer abc.def.ghi' },
      token: 'tok-123',
      body: { apiKey: 'sk-live-999', password: 'hunter2' },
      upload: { url: 'http://s3/x?X-Amz-Signature=deadbeef' },
    });
    await new Promise((r) => setImmediate(r));
    const text = JSON.stringify(lines);
    for (const secret of ['abc.def.ghi', 'tok-123', 'sk-live-999', 'hunter2', 'deadbeef']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({ service: 'test', level: 'info', token: '[redacted]' });
  });

  it('adds the request id of the current context', async () => {
    const { lines, destination } = capture();
    const sut = createLogger({ service: 'test', destination });
    runWithRequestContext({ requestId: 'req-42' }, () => sut.info('inside'));
    sut.info('outside');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.requestId)).toEqual(['req-42', undefined]);
  });
});
