// The scopes the schema's authScopes name, and the coded error a refused caller gets: UNAUTHENTICATED
// when nobody (or a bad credential) is asking, FORBIDDEN naming the role needed otherwise.
import type { AuthFailure } from '@pothos/plugin-scope-auth';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../schema/context.js';
import { ForbiddenError, UnauthenticatedError, type Role } from './viewer.js';

export function authScopes(ctx: Context) {
  return {
    public: true,
    signedIn: ctx.viewer !== null,
    roles: (roles: readonly Role[]) => ctx.viewer !== null && roles.includes(ctx.viewer.role),
  };
}

function rolesNeeded(failure: AuthFailure): readonly Role[] | null {
  if (failure.kind === 'AuthScope' && failure.scope === 'roles') return failure.parameter as readonly Role[];
  if ('failures' in failure) {
    for (const child of failure.failures) {
      const roles = rolesNeeded(child);
      if (roles) return roles;
    }
  }
  return null;
}

export function refusal(ctx: Context, info: GraphQLResolveInfo, result: { failure: AuthFailure }): Error {
  if (!ctx.viewer) return ctx.authProblem ? new UnauthenticatedError(`${ctx.authProblem}; sign in or send a valid API token`) : new UnauthenticatedError();
  const roles = rolesNeeded(result.failure);
  const what = `${info.operation.operation} ${info.fieldName}`;
  return new ForbiddenError(roles ? `${ctx.viewer.role} may not run ${what}; needs ${roles.join(' or ')}` : `${ctx.viewer.role} may not run ${what}`);
}
