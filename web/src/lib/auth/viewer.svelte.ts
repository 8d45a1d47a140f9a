// Who is signed in, for the header and for what the page offers: buttons the role cannot use are
// disabled with the reason as their title (the API refuses them anyway; this spares a click).
export type Role = 'ADMIN' | 'MEMBER' | 'VIEWER';

export interface Me {
  id: string;
  name: string;
  role: Role;
}

class ViewerState {
  me = $state<Me | null>(null);
}

export const viewer = new ViewerState();

/** Why the caller may not upload or launch; undefined when they may. */
export function cannotWrite(me: Me | null): string | undefined {
  // Not loaded yet (a page without a session goes to /login instead).
  if (!me) return 'Checking what your role allows…';
  if (me.role === 'VIEWER') return 'Read-only access (VIEWER): ask an ADMIN for the MEMBER role to upload and launch';
  return undefined;
}

/** Why the caller may not cancel, retry, delete or budget something `owner` created; undefined when they may. */
export function cannotActOn(me: Me | null, owner: { id: string } | null | undefined, what: string): string | undefined {
  const denied = cannotWrite(me);
  if (denied) return denied;
  if (me!.role !== 'ADMIN' && owner?.id !== me!.id) return `Only its creator or an ADMIN may ${what}`;
  return undefined;
}

let signingOut = false;

/**
 * The user is signing out: the session's socket closing (4401) that follows is expected and must
 * not start a navigation to /login?next=… racing the sign-out's own one to /login (the browser
 * aborts one of the two).
 */
export function beginSignOut(): void {
  signingOut = true;
}

/** Sends the browser to the login page, coming back here afterwards; a no-op there already, or while signing out. */
export function toLogin(): void {
  const { pathname, search } = window.location;
  if (pathname === '/login' || signingOut) return;
  window.location.assign(`/login?next=${encodeURIComponent(pathname + search)}`);
}
