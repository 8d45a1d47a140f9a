/** Free trial slots; the pull loop waits here until at least one is free. */
export class Slots {
  private free: number;
  private waiter: (() => void) | null = null;
  constructor(size: number) {
    this.free = size;
  }
  available(): number {
    return this.free;
  }
  take(): void {
    this.free--;
  }
  release(): void {
    this.free++;
    this.waiter?.();
    this.waiter = null;
  }
  /** Resolves once a slot is free (or at once if one is). */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}
