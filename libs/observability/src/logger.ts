import pino, { type Logger, type LoggerOptions } from 'pino';
import { currentRequestId } from './request-context';

export type { Logger } from 'pino';

/**
 * Paths removed from every log line. Secrets must never be logged, whatever a caller passes:
 * authorization headers, tokens, API keys, passwords, prompts and presigned URLs (they are bearer credentials).
 */
export const REDACT_PATHS = [
  'authorization',
  'password',
  'token',
  'apiKey',
  'secret',
  'prompt',
  'url',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  'refreshToken',
  'jwt',
  '*.jwt',
  'passwordHash',
  '*.passwordHash',
  '*.apiKey',
  '*.secret',
  '*.prompt',
  '*.url',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'upload.url',
  'download.url',
];

export interface CreateLoggerOptions {
  service: string;
  level?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to capture output. */
  destination?: pino.DestinationStream;
}

export function createLogger({ service, level = 'info', destination }: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
