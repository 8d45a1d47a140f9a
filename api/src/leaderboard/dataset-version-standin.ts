// A stand-in for the Dataset and DatasetVersion GraphQL types, which the datasets work (issue 17
// item 1, api/src/datasets/schema.ts on branch i17-datasets) owns. The leaderboard's
// `datasetVersion` field needs the type to exist before that branch is merged; once
// api/src/datasets/schema.(ts|js) is present, this file defines nothing, so the two never clash.
// Delete it (and its import in schema/index.ts) after the merge. Field names follow the contract.
import { existsSync } from 'node:fs';
import { builder } from '../schema/builder.js';

const datasetsSchemaExists = ['schema.ts', 'schema.js'].some((file) => existsSync(new URL(`../datasets/${file}`, import.meta.url)));

if (!datasetsSchemaExists) {
  builder.prismaObject('Dataset', {
    description: 'A named, versioned list of tasks (stand-in until the datasets schema is merged).',
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      description: t.exposeString('description', { nullable: true }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });
  builder.prismaObject('DatasetVersion', {
    description: 'One fixed task list of a dataset (stand-in until the datasets schema is merged).',
    fields: (t) => ({
      id: t.exposeID('id'),
      dataset: t.relation('dataset'),
      version: t.exposeString('version'),
      label: t.string({
        description: 'name@version, e.g. terminal-bench@2.0.',
        select: { version: true, dataset: { select: { name: true } } },
        resolve: (v) => `${v.dataset.name}@${v.version}`,
      }),
      description: t.exposeString('description', { nullable: true }),
      sourceDetail: t.exposeString('sourceDetail', { nullable: true }),
      taskCount: t.exposeInt('taskCount'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });
}
