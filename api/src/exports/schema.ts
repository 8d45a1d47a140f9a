// GraphQL for exports: where a job's downloads are (relative to the API's origin).
import { builder } from '../schema/builder.js';
import { exportPath } from './http.js';

interface ExportUrls {
  runsCsv: string;
  runsJson: string;
  tasksCsv: string;
  tasksJson: string;
}

const ExportUrlsRef = builder.objectRef<ExportUrls>('JobExportUrls').implement({
  description:
    "Downloads of a job's runs and per-task summary, streamed; paths relative to the API's origin (docs/api.md \"Exports\"). " +
    'The runs take ?attempts=all for every attempt; the task summaries take ?includeInfrastructure=true to count infrastructure errors as failures.',
  fields: (t) => ({
    runsCsv: t.exposeString('runsCsv', {
      description: 'One run per (task, repeat), its counted attempt, as CSV with a header row; ?attempts=all adds replaced and extra attempts.',
    }),
    runsJson: t.exposeString('runsJson', { description: 'The same rows as a JSON array, one element per line.' }),
    tasksCsv: t.exposeString('tasksCsv', { description: 'One row per task: the statistics of Job.taskStats.' }),
    tasksJson: t.exposeString('tasksJson'),
  }),
});

builder.prismaObjectFields('Job', (t) => ({
  exportUrls: t.field({
    type: ExportUrlsRef,
    select: { id: true },
    resolve: (job) => ({
      runsCsv: exportPath(job.id, 'runs', 'csv'),
      runsJson: exportPath(job.id, 'runs', 'json'),
      tasksCsv: exportPath(job.id, 'tasks', 'csv'),
      tasksJson: exportPath(job.id, 'tasks', 'json'),
    }),
  }),
}));
