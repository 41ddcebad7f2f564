import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { ScheduleCatchUp } from '@docflow/contracts';
import { ServiceClient } from '@docflow/messaging';
import { Clock } from '../common/clock';
import { JOBS_CONFIG, type JobsConfig } from '../config';
import { LaunchScheduledRunUseCase } from './launch-scheduled-run.usecase';
import { timingOf } from './schedule.mapper';
import type { ScheduleEntity } from './schedule.entity';
import { SchedulesRepository, type ClaimPlan } from './schedules.repository';
import { SlotSeries, type Timing } from './slots';

const CLAIM_BATCH = 100;
/** Launches one worker makes per tick at most, so a backlog does not starve the claims. */
const LAUNCHES_PER_TICK = 50;

/**
 * Which slot a due schedule claims now and when it is due next. `due` is its `next_run_at` (a slot, or the
 * creation time with `runNow`), at or before `now`. Slots that passed while no scheduler ran are not run
 * one by one: the latest of them is claimed once (`catchUp: latest`), or recorded as missed when it is
 * more than `graceMs` late (`catchUp: skip`). The next slot is the first after `now`.
 */
export function planClaim(
  timing: Timing,
  catchUp: ScheduleCatchUp,
  due: Date,
  now: Date,
  graceMs: number,
): ClaimPlan {
  try {
    const series = new SlotSeries(timing);
    const slotAt = series.latestBetween(due, now) ?? due;
    const nextRunAt = series.next(now);
    if (catchUp === 'skip' && now.getTime() - slotAt.getTime() > graceMs) {
      return {
        slotAt,
        nextRunAt,
        record: {
          status: 'missed',
          error: `due at ${slotAt.toISOString()}, ${Math.round((now.getTime() - slotAt.getTime()) / 1000)} s late (catchUp: skip)`,
        },
      };
    }
    return { slotAt, nextRunAt };
  } catch (error) {
    return {
      slotAt: due,
      nextRunAt: null,
      record: {
        status: 'failed',
        error: `paused: its slots cannot be computed (${(error as Error).message})`,
      },
    };
  }
}

/**
 * The persistent scheduler, in every jobs replica (both engines): each tick claims the due slots in
 * PostgreSQL and launches the claimed runs. Claims and launches lock rows with SKIP LOCKED, so replicas
 * share the work and never run a slot twice; the run rows make restarts safe.
 */
@Injectable()
export class Scheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Scheduler');
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private woken = false;

  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly launch: LaunchScheduledRunUseCase,
    private readonly services: ServiceClient,
    private readonly clock: Clock,
    @Inject(JOBS_CONFIG) private readonly config: JobsConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.SCHEDULER_ENABLED) this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the tick in progress (a launch cut short is retried by the next scheduler). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeUp?.();
    await this.loop;
  }

  /** Ticks now instead of at the end of the interval (a schedule due at once was created here). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      this.woken = false;
      try {
        const { launched } = await this.tick();
        // A backlog larger than one tick's share: go on at once.
        if (launched >= LAUNCHES_PER_TICK * this.config.SCHEDULER_CONCURRENCY) this.woken = true;
      } catch (error) {
        this.logger.error({ msg: 'scheduler tick failed', error: (error as Error).message });
      }
      if (this.stopping.signal.aborted || this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.SCHEDULER_TICK_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /** One pass: claim every due slot, then launch the pending runs. */
  async tick(): Promise<{ claimed: number; launched: number }> {
    const claimed = await this.claimDue();
    const launched = await this.launchPending();
    return { claimed, launched };
  }

  /** Claims the due slots of every due schedule (in batches); returns the runs claimed to launch. */
  async claimDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.clock.now();
      const { claimed, runs } = await this.schedules.claimDue(now, CLAIM_BATCH, (schedule) =>
        this.plan(schedule, now),
      );
      total += runs.length;
      if (claimed < CLAIM_BATCH || this.stopping.signal.aborted) return total;
    }
  }

  /** Launches pending runs with SCHEDULER_CONCURRENCY workers; returns how many were handled. */
  async launchPending(): Promise<number> {
    // Launching needs users-docs; until NATS is connected (just after start-up) the runs wait, unattempted.
    if (!this.services.isConnected()) return 0;
    let handled = 0;
    const worker = async () => {
      for (let i = 0; i < LAUNCHES_PER_TICK && !this.stopping.signal.aborted; i++) {
        const found = await this.schedules.withNextPendingRun(this.clock.now(), (tx, run, schedule) =>
          this.launch.execute(tx, run, schedule),
        );
        if (!found) return;
        handled++;
      }
    };
    await Promise.all(Array.from({ length: this.config.SCHEDULER_CONCURRENCY }, worker));
    return handled;
  }

  private plan(schedule: ScheduleEntity, now: Date): ClaimPlan {
    return planClaim(
      timingOf(schedule),
      schedule.catchUp,
      schedule.nextRunAt!,
      now,
      this.config.SCHEDULER_MISFIRE_GRACE_SECONDS * 1000,
    );
  }
}
