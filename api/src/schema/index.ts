// Imports every domain's schema file and builds the schema. Nothing else.
import { builder } from './builder.js';
import './errors.js';
import '../health/schema.js';
import '../auth/schema.js';
import '../tasks/schema.js';
import '../runs/schema.js';
import '../runs/details.js';
import '../jobs/schema.js';
import '../jobs/mutations.js';
import '../jobs/manage-schema.js';
import '../jobs/regrade-schema.js';
import '../quotas/schema.js';
import '../audit/schema.js';
import '../estimates/schema.js';
import '../jobs/subscriptions.js';
import '../tests/schema.js';
import '../runners/schema.js';
import '../logs/schema.js';
import '../stats/schema.js';
import '../exports/schema.js';
import '../trials/schema.js';
import '../datasets/schema.js';
import '../leaderboard/schema.js';

export function toSchema() {
  return builder.toSchema({ sortSchema: true });
}
