// The library's filter as it lives in the URL (?search=&category=&difficulty=&tags=a,b&order=), and the
// links that carry it (or a hand-picked selection) to the new-job page.
import { DIFFICULTIES, TASK_ORDERS, type Difficulty, type TaskOrder } from './fields';

export interface TaskFilter {
  search: string;
  category: string;
  difficulty: Difficulty | '';
  tags: string[];
  order: TaskOrder;
}

export const DEFAULT_ORDER: TaskOrder = 'CREATED_AT_DESC';

export function splitTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];
}

export function readFilter(params: URLSearchParams): TaskFilter {
  const difficulty = (params.get('difficulty') ?? '').toUpperCase();
  const order = params.get('order') ?? '';
  return {
    search: params.get('search') ?? '',
    category: params.get('category') ?? '',
    difficulty: DIFFICULTIES.includes(difficulty as Difficulty) ? (difficulty as Difficulty) : '',
    tags: splitTags(params.get('tags') ?? ''),
    order: TASK_ORDERS.includes(order as TaskOrder) ? (order as TaskOrder) : DEFAULT_ORDER,
  };
}

/** Only the set parts, in a stable order; `order` is left out when it is the default. */
export function filterParams(filter: TaskFilter, withOrder = true): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.search.trim()) params.set('search', filter.search.trim());
  if (filter.category) params.set('category', filter.category);
  if (filter.difficulty) params.set('difficulty', filter.difficulty);
  if (filter.tags.length) params.set('tags', filter.tags.join(','));
  if (withOrder && filter.order !== DEFAULT_ORDER) params.set('order', filter.order);
  return params;
}

export function isFiltered(filter: TaskFilter): boolean {
  return Boolean(filter.search.trim() || filter.category || filter.difficulty || filter.tags.length);
}

/** GraphQL variables for `tasks(...)`. */
export function filterVariables(filter: TaskFilter): Record<string, unknown> {
  return {
    search: filter.search.trim() || null,
    category: filter.category || null,
    difficulty: filter.difficulty || null,
    tags: filter.tags.length ? filter.tags : null,
    orderBy: filter.order,
  };
}

export function newJobWithTasks(ids: string[]): string {
  return `/jobs/new?tasks=${ids.map(encodeURIComponent).join(',')}`;
}

export function newJobWithFilter(filter: TaskFilter): string {
  const params = filterParams(filter, false).toString();
  return params ? `/jobs/new?${params}` : '/jobs/new';
}
