import { createHmac, timingSafeEqual } from 'node:crypto';
import { CALLBACK_WINDOW_SECONDS } from './jobs';

/**
 * `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the signature of a callback from a job step.
 * The timestamp (unix seconds) is signed with the body, so a captured callback cannot be replayed
 * outside the window.
 */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type CallbackVerification = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

export function verifyCallback(
  secret: string,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): CallbackVerification {
  if (!timestampHeader || !signatureHeader || !/^\d{1,12}$/.test(timestampHeader))
    return { ok: false, reason: 'missing' };
  const timestamp = Number(timestampHeader);
  if (Math.abs(nowSeconds - timestamp) > CALLBACK_WINDOW_SECONDS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signCallback(secret, timestamp, body));
  const given = Buffer.from(signatureHeader);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'mismatch' };
  return { ok: true };
}
