import { lexicographicSortSchema, printSchema } from 'graphql';
import { toSchema } from './index.js';

/** The schema as committed in schema.graphql. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(toSchema()))}\n`;
}
