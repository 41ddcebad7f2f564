import { DiscardPolicy, RetentionPolicy, StorageType, type NatsConnection, type StreamConfig } from 'nats';
import {
  IDENTITY_EVENTS_STREAM,
  IDENTITY_EVENTS_STREAM_SUBJECTS,
  JOB_CALLBACKS_STREAM,
  JOB_EVENTS_STREAM,
  KEY_VAULT_AUDIT_STREAM,
  KEY_VAULT_AUDIT_STREAM_SUBJECTS,
} from '@docflow/contracts';

const SECOND_NS = 1_000_000_000;

/**
 * The JetStream streams of the platform, defined once: every process that needs one creates it when it is
 * missing (the first to arrive wins, the definition is the same), so no start-up order is required.
 */
export const STREAMS = {
  /** Every job event, replayed to SSE clients: 7 days, duplicates (same event id) dropped for 2 minutes. */
  jobEvents: {
    name: JOB_EVENTS_STREAM,
    subjects: ['jobs.events.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 7 * 24 * 3600 * SECOND_NS,
    duplicate_window: 120 * SECOND_NS,
  },
  /**
   * Step callbacks waiting for the jobs service: a work queue (a message goes once it is acknowledged), kept
   * a day at most and bounded in size, refusing new messages when full rather than dropping old ones.
   */
  jobCallbacks: {
    name: JOB_CALLBACKS_STREAM,
    subjects: ['jobs.callbacks.>'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    max_age: 24 * 3600 * SECOND_NS,
    max_bytes: 1024 * 1024 * 1024,
    discard: DiscardPolicy.New,
    duplicate_window: 120 * SECOND_NS,
  },
  /**
   * Identity's durable events (published from its outbox; user-details consumes them): exactly the event
   * subjects, never a wildcard that would capture identity's request subjects. 30 days, duplicates (same event
   * id) dropped for 2 minutes.
   */
  identityEvents: {
    name: IDENTITY_EVENTS_STREAM,
    subjects: [...IDENTITY_EVENTS_STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 30 * 24 * 3600 * SECOND_NS,
    duplicate_window: 120 * SECOND_NS,
  },
  /**
   * The key vault's audit events (published from its outbox; identity records them in its audit log): exactly
   * `key-vault.audit.recorded`. 30 days (what waits while identity is down), duplicates (same event id) dropped
   * for 2 minutes; identity records each event id once beyond that.
   */
  keyVaultAudit: {
    name: KEY_VAULT_AUDIT_STREAM,
    subjects: [...KEY_VAULT_AUDIT_STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 30 * 24 * 3600 * SECOND_NS,
    duplicate_window: 120 * SECOND_NS,
  },
} satisfies Record<string, Partial<StreamConfig> & { name: string; subjects: string[] }>;

/**
 * Creates the stream when it does not exist yet; adds the subjects a newer release defines to a stream an older
 * one created (a new event type), keeping whatever else the stream holds.
 */
export async function ensureStream(
  nc: NatsConnection,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(config.name)).config;
  } catch {
    existing = undefined;
  }
  if (existing) {
    const missing = (config.subjects ?? []).filter((subject) => !existing.subjects.includes(subject));
    if (missing.length > 0)
      await jsm.streams.update(config.name, { ...existing, subjects: [...existing.subjects, ...missing] });
    return;
  }
  try {
    await jsm.streams.add(config);
  } catch (error) {
    // Another process created it meanwhile.
    if (!/already in use|already exists/i.test((error as Error).message)) throw error;
  }
}
