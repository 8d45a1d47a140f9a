// The job page's views, kept in the URL (?tab=tasks) so a view can be linked. The matrix is the
// page's main view and has no parameter.
export const JOB_TABS = [
  { id: 'matrix', label: 'Matrix' },
  { id: 'tasks', label: 'Per task' },
  { id: 'errors', label: 'Errors & timings' },
  { id: 'runs', label: 'Runs' },
] as const;

export type JobTabId = (typeof JOB_TABS)[number]['id'];

/** The tab of a URL; links from before the tabs (`?status=ERRORED&task=…#runs`) open the run list. */
export function jobTabFrom(params: URLSearchParams): JobTabId {
  const named = JOB_TABS.find((t) => t.id === params.get('tab'))?.id;
  if (named) return named;
  return params.has('status') || params.has('task') ? 'runs' : 'matrix';
}
