// Imports every domain's schema file and builds the schema. Nothing else.
import { builder } from './builder.js';
import '../health/schema.js';

export function toSchema() {
  return builder.toSchema({ sortSchema: true });
}
