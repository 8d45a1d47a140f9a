import { InvalidInputError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else is a client mistake worth naming rather than a database error. */
export function parseId(value: string | number, field: string): string {
  const id = String(value);
  if (!UUID.test(id)) throw new InvalidInputError(`${field} must be a UUID, got ${JSON.stringify(id)}`, field);
  return id.toLowerCase();
}
