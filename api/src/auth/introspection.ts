// The schema is described only to signed-in callers (GraphiQL, codegen with a token): anonymous
// introspection would map every operation for someone who may run none of them. Checked at execute,
// where the context (and so the viewer) exists; yoga validates before it builds the context.
import { BREAK, GraphQLError, visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../schema/context.js';

function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

export function refuseAnonymousIntrospection(): Plugin<Context> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if ((args.contextValue as Context).viewer || !introspects(args.document)) return;
      setResultAndStopExecution({
        errors: [new GraphQLError('sign in or send an API token to introspect the schema', { extensions: { code: 'UNAUTHENTICATED' } })],
      });
    },
  };
}
