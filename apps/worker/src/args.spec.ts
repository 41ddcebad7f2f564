import { parseWorkerArgs } from './args';

describe(parseWorkerArgs.name, () => {
  it('reads the arguments', () => {
    expect(parseWorkerArgs(['run', '--job', 'j1', '--manifest', 's3://b/k', '--chunk', '3'], {})).toEqual({
      command: 'run',
      jobId: 'j1',
      manifest: 's3://b/k',
      chunk: 3,
    });
  });

  it('reads the report command of the exit handler', () => {
    expect(parseWorkerArgs(['report', '--job', 'j1', '--status', 'Failed'], {})).toEqual({
      command: 'report',
      jobId: 'j1',
      status: 'Failed',
    });
    expect(() => parseWorkerArgs(['report', '--job', 'j1'], {})).toThrow('--status is required');
  });

  it('reads the plan command', () => {
    expect(parseWorkerArgs(['plan', '--job', 'j1', '--manifest', 's3://b/k'], {})).toEqual({
      command: 'plan',
      jobId: 'j1',
      manifest: 's3://b/k',
    });
    expect(() => parseWorkerArgs(['plan', '--job', 'j1'], {})).toThrow('--manifest is required');
    expect(() =>
      parseWorkerArgs(['plan', '--job', 'j1', '--manifest', 's3://b/k', '--chunk', '1'], {}),
    ).toThrow('plan takes no --chunk');
  });

  it('falls back to the environment', () => {
    expect(
      parseWorkerArgs([], { DOCFLOW_JOB_ID: 'j2', DOCFLOW_MANIFEST: 's3://b/m', DOCFLOW_CHUNK: '0' }),
    ).toEqual({
      command: 'run',
      jobId: 'j2',
      manifest: 's3://b/m',
      chunk: 0,
    });
  });

  it.each([
    [['run', '--manifest', 's3://b/k'], '--job is required'],
    [['run', '--job', 'j'], '--manifest is required'],
    [['run', '--job', 'j', '--manifest', 's3://b/k', '--chunk=-1'], '--chunk must be a non-negative integer'],
    [
      ['run', '--job', 'j', '--manifest', 's3://b/k', '--chunk', 'x'],
      '--chunk must be a non-negative integer',
    ],
    [['explode'], 'unknown command explode'],
    [['run', '--jobb', 'x'], "Unknown option '--jobb'"],
  ])('refuses %p', (argv, message) => {
    expect(() => parseWorkerArgs(argv, {})).toThrow(message);
  });
});
