// Signing webhook bodies, as receivers verify them (docs/api.md "Webhooks"):
//   X-THR-Timestamp: <unix seconds>
//   X-THR-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<raw body>")>
// The timestamp is inside the signed text, so a captured request cannot be replayed later with a
// fresh timestamp; receivers refuse timestamps more than a few minutes old (Stripe's scheme).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-THR-Signature';
export const TIMESTAMP_HEADER = 'X-THR-Timestamp';
export const EVENT_HEADER = 'X-THR-Event';
export const DELIVERY_HEADER = 'X-THR-Delivery';

/** Webhook secrets start with this, so secret scanners and people can recognise them. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export function newWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** What a receiver does; here for tests and for anyone embedding the API in Node. */
export function verifySignature(secret: string, timestamp: string | number, body: string, header: string, toleranceSeconds = 300, nowMs = Date.now()): boolean {
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowMs / 1000 - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, ts, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
