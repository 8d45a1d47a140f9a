// Pure logic of the task page's "Runs" section: the filters in the URL and the two-run pick.

export interface RunFilter {
  agent: string | null;
  model: string | null;
}

/** ?agent=…&model=… as the heatmap links here; an empty value is no filter. */
export function readRunFilter(params: URLSearchParams): RunFilter {
  return { agent: params.get('agent') || null, model: params.get('model') || null };
}

/** The page's query string with the filter changed and everything else (the open file) kept. */
export function withRunFilter(params: URLSearchParams, filter: RunFilter): string {
  const next = new URLSearchParams(params);
  for (const key of ['agent', 'model'] as const) {
    const value = filter[key];
    if (value) next.set(key, value);
    else next.delete(key);
  }
  return next.toString();
}

/**
 * Ticking a run adds it to the pick, unticking removes it; a third tick drops the first pick, so
 * the pick is always the two runs ticked last.
 */
export function togglePick(picks: string[], id: string): string[] {
  if (picks.includes(id)) return picks.filter((p) => p !== id);
  return [...picks, id].slice(-2);
}

/** The comparison of two picked runs, a as the first ticked. */
export function compareHref(picks: string[]): string | null {
  return picks.length === 2 ? `/runs/compare?a=${encodeURIComponent(picks[0]!)}&b=${encodeURIComponent(picks[1]!)}` : null;
}

/** The choices of the filters: every agent, and the models of the chosen agent (all when none). */
export function filterChoices(groups: { agent: string; model: string; runs: number }[], filter: RunFilter) {
  const agents = [...new Set(groups.map((g) => g.agent))];
  const models = [...new Set(groups.filter((g) => !filter.agent || g.agent === filter.agent).map((g) => g.model))].sort();
  // A filter from a link may name a pair with no run of this task: keep it selectable, so it shows.
  if (filter.agent && !agents.includes(filter.agent)) agents.push(filter.agent);
  if (filter.model && !models.includes(filter.model)) models.push(filter.model);
  return { agents, models };
}
