// The set-up most end-to-end files share: an in-process API with its services (dispatcher, recorder,
// reconciler) and a job harness for runner processes, made before the file's tests and closed after.
import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type TestApp } from './app.js';
import { jobHarness, type JobHarness } from './jobs.js';

export interface PlatformWithRunners {
  api: TestApp;
  h: JobHarness;
}

/** Registers the file's beforeAll/afterAll; `use` receives the platform once it is up. */
export function usePlatformWithRunners(use: (platform: PlatformWithRunners) => void): void {
  let platform: Partial<PlatformWithRunners> = {};
  beforeAll(async () => {
    const api = await startTestApp({ services: true });
    platform = { api };
    platform.h = await jobHarness(api);
    use(platform as PlatformWithRunners);
  });
  afterAll(async () => {
    await platform.h?.close();
    await platform.api?.close();
  });
}
