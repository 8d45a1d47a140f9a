// The upload queue: each dropped zip is its own request (own progress bar, own outcome), at most
// three in flight. Totals add up over everything uploaded since the page opened.
import { uploadZip, UploadError } from './upload';
import type { UploadedFile } from './fields';

export const PARALLEL_UPLOADS = 3;

export type ItemState = 'waiting' | 'uploading' | 'processing' | 'done' | 'failed';

export class UploadItem {
  readonly id: number;
  readonly file: File;
  state = $state<ItemState>('waiting');
  loaded = $state(0);
  total = $state(0);
  outcome = $state<UploadedFile | undefined>();
  error = $state<string | undefined>();
  controller = new AbortController();

  constructor(id: number, file: File) {
    this.id = id;
    this.file = file;
    this.total = file.size;
  }

  get fraction(): number {
    return this.total > 0 ? Math.min(1, this.loaded / this.total) : 0;
  }
}

export class UploadQueue {
  items = $state<UploadItem[]>([]);
  private nextId = 1;
  private active = 0;
  /** Called after each file whose upload stored at least one task. */
  onCreated: (file: UploadedFile) => void = () => {};

  add(files: Iterable<File>): { added: number; skipped: string[] } {
    const skipped: string[] = [];
    let added = 0;
    for (const file of files) {
      if (!/\.zip$/i.test(file.name) && file.type !== 'application/zip' && file.type !== 'application/x-zip-compressed') {
        skipped.push(file.name);
        continue;
      }
      this.items.push(new UploadItem(this.nextId++, file));
      added++;
    }
    this.pump();
    return { added, skipped };
  }

  get busy(): boolean {
    return this.items.some((i) => i.state === 'waiting' || i.state === 'uploading' || i.state === 'processing');
  }

  get totals() {
    let created = 0;
    let duplicates = 0;
    let rejected = 0;
    let failedFiles = 0;
    for (const item of this.items) {
      if (item.state === 'failed') failedFiles++;
      if (!item.outcome) continue;
      if (item.outcome.errors.length > 0 && item.outcome.tasks.length === 0) failedFiles++;
      for (const task of item.outcome.tasks) {
        if (task.status === 'CREATED') created++;
        else if (task.status === 'DUPLICATE') duplicates++;
        else rejected++;
      }
    }
    return { created, duplicates, rejected, failedFiles, files: this.items.length };
  }

  /** Every task the uploads stored or found stored (duplicates), once each: what a dataset of this upload holds. */
  get storedTaskIds(): string[] {
    const ids = this.items.flatMap((i) => i.outcome?.tasks.map((t) => t.task?.id) ?? []).filter((id): id is string => !!id);
    return [...new Set(ids)];
  }

  cancel(item: UploadItem) {
    item.controller.abort();
    if (item.state === 'waiting') {
      item.state = 'failed';
      item.error = 'Upload cancelled.';
    }
  }

  retry(item: UploadItem) {
    if (item.state !== 'failed') return;
    item.controller = new AbortController();
    item.state = 'waiting';
    item.error = undefined;
    item.loaded = 0;
    this.pump();
  }

  clearFinished() {
    this.items = this.items.filter((i) => i.state !== 'done' && i.state !== 'failed');
  }

  private pump() {
    while (this.active < PARALLEL_UPLOADS) {
      const item = this.items.find((i) => i.state === 'waiting');
      if (!item) return;
      this.active++;
      void this.run(item).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async run(item: UploadItem) {
    item.state = 'uploading';
    try {
      const outcome = await uploadZip(
        item.file,
        ({ loaded, total }) => {
          item.loaded = loaded;
          item.total = total;
          // All bytes sent: the server is unpacking and checking the zip now.
          if (total > 0 && loaded >= total) item.state = 'processing';
        },
        item.controller.signal,
      );
      item.outcome = outcome;
      item.state = 'done';
      if (outcome.tasks.some((t) => t.status === 'CREATED')) this.onCreated(outcome);
    } catch (e) {
      item.state = 'failed';
      item.error = e instanceof UploadError || e instanceof Error ? e.message : String(e);
    }
  }
}
