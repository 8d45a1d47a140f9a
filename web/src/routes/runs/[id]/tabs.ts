// The run page's tabs, kept in the URL (?tab=trajectory) so a view can be linked.
export const TABS = [
  { id: 'log', label: 'Log' },
  { id: 'tests', label: 'Tests' },
  { id: 'trajectory', label: 'Trajectory' },
  { id: 'recording', label: 'Recording' },
  { id: 'files', label: 'Files' },
] as const;

export type TabId = (typeof TABS)[number]['id'];

export function tabFrom(value: string | null): TabId {
  return TABS.find((t) => t.id === value)?.id ?? 'log';
}

/** The log's lines from these files mean the trajectory changed (harbor-contract.md §9). */
export const TRAJECTORY_LINE_FILE = /^agent\/trajectory(?:\.cont-\d+)?\.json$/;

/** Calls `fn` at most once per `ms`, and once more after the last call of a burst. */
export function throttle(fn: () => void, ms: number): { call(): void; cancel(): void } {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    call() {
      const wait = last + ms - Date.now();
      if (wait <= 0) {
        last = Date.now();
        fn();
      } else if (!timer) {
        timer = setTimeout(() => {
          timer = undefined;
          last = Date.now();
          fn();
        }, wait);
      }
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
