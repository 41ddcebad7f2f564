import {
  applyToInput,
  canMove,
  countChange,
  countInputs,
  countedFinalStatus,
  countedProgress,
  finalStatus,
  jobProgress,
  type InputState,
} from './job-state';

describe(canMove.name, () => {
  it.each([
    ['queued', 'submitted', true],
    ['submitted', 'running', true],
    ['running', 'completed', true],
    ['queued', 'cancelled', true],
    ['running', 'submitted', false],
    ['running', 'running', false],
    ['completed', 'failed', false],
    ['cancelled', 'running', false],
    ['failed', 'completed', false],
  ] as const)('%s → %s is %s', (from, to, allowed) => {
    expect(canMove(from, to)).toBe(allowed);
  });
});

describe(applyToInput.name, () => {
  const pending: InputState = { status: 'pending', stage: null, progress: 0 };

  it('walks extract → transform → load with progress only going up', () => {
    let sut = applyToInput(pending, { type: 'stage_started', stage: 'extract' });
    expect(sut).toEqual({ status: 'running', stage: 'extract', progress: 0 });
    sut = applyToInput(sut, { type: 'stage_completed', stage: 'extract' });
    sut = applyToInput(sut, { type: 'stage_progress', stage: 'transform', progress: 50 });
    expect(sut.progress).toBe(50);
    // a late, older event does not move progress back
    sut = applyToInput(sut, { type: 'stage_started', stage: 'transform' });
    expect(sut.progress).toBe(50);
    // nor the stage
    sut = applyToInput(sut, { type: 'stage_completed', stage: 'load' });
    sut = applyToInput(sut, { type: 'stage_progress', stage: 'transform', progress: 80 });
    expect(sut).toEqual({ status: 'running', stage: 'load', progress: 100 });
    sut = applyToInput(sut, { type: 'doc_completed' });
    expect(sut).toEqual({ status: 'completed', stage: 'load', progress: 100 });
  });

  it('keeps an input open after a retryable failure (the step is retried), fails it on a permanent one', () => {
    const running: InputState = { status: 'running', stage: 'transform', progress: 40 };
    expect(applyToInput(running, { type: 'doc_failed', error: { kind: 'retryable', message: '429' } })).toBe(
      running,
    );
    expect(
      applyToInput(running, { type: 'doc_failed', error: { kind: 'permanent', message: 'binary' } }).status,
    ).toBe('failed');
  });

  it('never changes a finished input', () => {
    const done: InputState = { status: 'completed', stage: 'load', progress: 100 };
    expect(applyToInput(done, { type: 'doc_failed' })).toBe(done);
    const failed: InputState = { status: 'failed', stage: 'extract', progress: 0 };
    expect(applyToInput(failed, { type: 'doc_completed' })).toBe(failed);
  });
});

describe(finalStatus.name, () => {
  it.each([
    [['completed', 'completed'], 'completed'],
    [['completed', 'failed'], 'completed_with_errors'],
    [['failed', 'failed'], 'failed'],
    [['completed', 'running'], undefined],
    [['pending'], undefined],
    [[], undefined],
  ] as const)('%p gives %p', (statuses, expected) => {
    expect(finalStatus(statuses.map((status) => ({ status })))).toBe(expected);
  });
});

describe(jobProgress.name, () => {
  it('is the mean, with finished inputs at 100', () => {
    expect(
      jobProgress([
        { status: 'completed', progress: 0 },
        { status: 'running', progress: 50 },
      ]),
    ).toBe(75);
    expect(jobProgress([])).toBe(0);
  });
});

describe('job counters', () => {
  const events = [
    { type: 'stage_started', stage: 'extract' },
    { type: 'stage_progress', stage: 'transform', progress: 40 },
    { type: 'stage_completed', stage: 'transform' },
    { type: 'doc_failed', error: { kind: 'retryable', message: 'x' } },
    { type: 'doc_failed', error: { kind: 'permanent', message: 'x' } },
    { type: 'doc_completed' },
    { type: 'stage_started', stage: 'load' },
  ] as const;

  it('kept one event at a time, they always equal a recount of the inputs', () => {
    // A deterministic pseudo-random walk over 40 inputs and 2,000 events.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const inputs: InputState[] = Array.from({ length: 40 }, () => ({
      status: 'pending',
      stage: null,
      progress: 0,
    }));
    const counters = countInputs(inputs);
    for (let i = 0; i < 2_000; i++) {
      const index = next(inputs.length);
      const before = inputs[index]!;
      const after = applyToInput(before, events[next(events.length)]!);
      inputs[index] = after;
      const change = countChange(before, after);
      counters.inputsOpen += change.open;
      counters.inputsCompleted += change.completed;
      counters.progressSum += change.progress;
      expect(counters).toEqual(countInputs(inputs));
      expect(countedProgress(counters)).toBe(jobProgress(inputs));
      expect(countedFinalStatus(counters)).toBe(finalStatus(inputs));
    }
    for (const [index, before] of inputs.entries()) {
      const after = applyToInput(before, { type: 'doc_completed' });
      inputs[index] = after;
      const change = countChange(before, after);
      counters.inputsOpen += change.open;
      counters.inputsCompleted += change.completed;
      counters.progressSum += change.progress;
    }
    expect(counters).toEqual(countInputs(inputs));
    expect(countedFinalStatus(counters)).toMatch(/^(completed|completed_with_errors|failed)$/);
  });
});
