// The one Pothos builder: plugins, scalars, Context and empty root types. Nothing else lives here.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { Role } from '../auth/viewer.js';
import { authScopes, refusal } from '../auth/scopes.js';
import type { Context } from './context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { public: boolean; signedIn: boolean; roles: readonly Role[] };
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    Upload: { Input: File; Output: never };
  };
}>({
  // Scope auth first, so no other plugin's wrapper runs for a caller who may not use the field.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, PrismaPlugin],
  scopeAuth: {
    authScopes,
    // Checked when a subscription starts, not only when its events arrive.
    authorizeOnSubscribe: true,
    unauthorizedError: (_parent, ctx, info, result) => refusal(ctx, info, result),
  },
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  errors: { defaultTypes: [] },
  relay: { clientMutationId: 'omit', cursorType: 'String' },
});

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string in UTC with milliseconds.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) {
      throw new GraphQLError(`DateTime must be an ISO 8601 string, got ${JSON.stringify(value)}`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
});

builder.scalarType('Upload', {
  description: 'A file sent with the GraphQL multipart request spec.',
  serialize: () => {
    throw new GraphQLError('Upload is an input-only scalar');
  },
  parseValue: (value) => {
    const file = value as Partial<File> | null;
    if (!file || typeof file.name !== 'string' || typeof file.stream !== 'function') {
      throw new GraphQLError('Upload must be a file part of a multipart request (graphql-multipart-request-spec)', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return value as File;
  },
});

// Every root field needs a signed-in caller, and every mutation a MEMBER or ADMIN, unless the field
// says otherwise (skipTypeScopes + its own authScopes): a field added without a thought is closed.
builder.queryType({ authScopes: { signedIn: true } });
builder.mutationType({ authScopes: { roles: ['ADMIN', 'MEMBER'] } });
builder.subscriptionType({ authScopes: { signedIn: true } });
