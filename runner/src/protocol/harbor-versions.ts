// The Harbor releases the runner is tested against (issue 16 item 8). Outside the range a runner
// still runs Harbor; its heartbeat says the version is untested and the Runners page warns.
/** Harbor releases the runner is tested against: 0.22.0 up to, not including, 0.25. */
export const TESTED_HARBOR = { from: [0, 22, 0], below: [0, 25, 0], label: '0.22.0–0.24.x' } as const;

export function harborTested(version: string | null): boolean | null {
  if (version === null) return null;
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return false;
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  const cmp = (a: readonly number[], b: readonly number[]) => {
    const i = a.findIndex((x, k) => x !== b[k]);
    return i === -1 ? 0 : Math.sign(a[i]! - b[i]!);
  };
  return cmp(v, TESTED_HARBOR.from) >= 0 && cmp(v, TESTED_HARBOR.below) < 0;
}

export const TESTED_HARBOR_LABEL = TESTED_HARBOR.label;
