// Typed GraphQL documents: gql.tada reads each document's result and variable types from the schema
// (schema.graphql, turned into graphql-env.d.ts by `npm run generate`), so a page that selects a
// field the API does not have, or reads one it did not select, fails the type check instead of a user.
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: unknown; Upload: File };
  // Fragments are for sharing selections between documents, not for hiding fields from components.
  disableMasking: true;
}>();

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
