// Who is asking: the one shape every resolver, download route and service sees for the caller, and
// the guards that turn "not signed in" and "not allowed" into coded errors. Authentication (sessions,
// API tokens) fills Context.viewer; everything else only reads it through these functions.
import { DomainError } from '../schema/domain-error.js';

export type Role = 'ADMIN' | 'MEMBER' | 'VIEWER';

export interface Viewer {
  userId: string;
  name: string;
  role: Role;
  /** How this request proved who it is. */
  via: 'session' | 'token';
  /** The session or API token row behind this request. */
  credentialId: string;
}

/** No valid session or token: sign in, or send `Authorization: Bearer <token>`. */
export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'sign in or send an API token (Authorization: Bearer <token>)') {
    super(message);
  }
}

/** Signed in, but this role (or this user) may not do this; the message says why. */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
}

interface HasViewer {
  viewer: Viewer | null;
}

export function requireViewer(ctx: HasViewer): Viewer {
  if (!ctx.viewer) throw new UnauthenticatedError();
  return ctx.viewer;
}

/** The caller, if their role is one of `roles`; FORBIDDEN naming the action otherwise. */
export function requireRole(ctx: HasViewer, roles: readonly Role[], action: string): Viewer {
  const viewer = requireViewer(ctx);
  if (!roles.includes(viewer.role)) {
    throw new ForbiddenError(`${viewer.role} may not ${action}; needs ${roles.join(' or ')}`);
  }
  return viewer;
}

/** MEMBERs act on what they created; ADMINs on anything; VIEWERs on nothing. */
export function requireOwnerOrAdmin(ctx: HasViewer, ownerId: string | null, action: string): Viewer {
  const viewer = requireRole(ctx, ['ADMIN', 'MEMBER'], action);
  if (viewer.role !== 'ADMIN' && ownerId !== viewer.userId) {
    throw new ForbiddenError(`only its creator or an ADMIN may ${action}`);
  }
  return viewer;
}
