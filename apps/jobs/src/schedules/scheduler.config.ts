import { z } from 'zod';
import { bool, positiveInt } from '@docflow/config';

/** The scheduler's settings, part of the jobs service's configuration. */
export const schedulerConfigFields = {
  /** false: this replica serves the schedules API but launches nothing (another replica does). */
  SCHEDULER_ENABLED: bool(true),
  /** How often the scheduler looks for due slots; a slot runs at most this late. */
  SCHEDULER_TICK_MS: positiveInt(5_000),
  /** Runs one replica launches at the same time. */
  SCHEDULER_CONCURRENCY: positiveInt(2),
  /** A slot later than this when claimed was missed (what `catchUp: skip` skips). */
  SCHEDULER_MISFIRE_GRACE_SECONDS: positiveInt(300),
  /** Attempts at launching a run's jobs when the failure is transient (a service unavailable). */
  SCHEDULER_MAX_ATTEMPTS: positiveInt(8),
  /** Documents one run takes at most (in several jobs of at most MAX_DOCS_PER_JOB each). */
  SCHEDULE_MAX_DOCS_PER_RUN: positiveInt(50_000),
  MAX_SCHEDULES_PER_USER: positiveInt(100),
} satisfies Record<string, z.ZodType>;

export type SchedulerConfig = {
  [K in keyof typeof schedulerConfigFields]: z.infer<(typeof schedulerConfigFields)[K]>;
};
