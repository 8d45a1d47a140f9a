// Keyboard moves between tabs (WAI-ARIA tabs pattern), shared by the job and run pages.

/** The tab that Arrow Left/Right (wrapping), Home or End moves to from `current`; null for other keys. */
export function tabForKey<T extends string>(tabs: readonly { id: T }[], current: T, key: string): T | null {
  const i = tabs.findIndex((t) => t.id === current);
  const to = key === 'ArrowRight' ? i + 1 : key === 'ArrowLeft' ? i - 1 : key === 'Home' ? 0 : key === 'End' ? tabs.length - 1 : null;
  return to === null ? null : tabs[(to + tabs.length) % tabs.length]!.id;
}
