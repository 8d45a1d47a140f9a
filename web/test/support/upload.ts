// Uploads task zips through the GraphQL multipart request, as integrations do, and returns task ids.
import { zipTask } from './tasks.js';

export async function uploadTasks(baseUrl: string, tasks: { name: string; sim?: Record<string, string> }[]): Promise<Record<string, string>> {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: `mutation ($files: [Upload!]!) { uploadTasks(files: $files) { __typename ... on MutationUploadTasksSuccess { data { files { tasks { name status task { id } errors { message } } } } } } }`,
      variables: { files: tasks.map(() => null) },
    }),
  );
  form.set('map', JSON.stringify(Object.fromEntries(tasks.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  for (const [i, task] of tasks.entries()) {
    form.set(String(i), new Blob([new Uint8Array(await zipTask(task.name, task.sim))]), `${task.name}.zip`);
  }
  const response = await fetch(`${baseUrl}/graphql`, { method: 'POST', body: form, headers: { 'graphql-require-preflight': '1' } });
  const body = (await response.json()) as any;
  const ids: Record<string, string> = {};
  for (const file of body.data.uploadTasks.data.files) {
    for (const task of file.tasks) {
      if (!task.task) throw new Error(`upload of ${task.name} failed: ${JSON.stringify(task.errors)}`);
      ids[task.name] = task.task.id;
    }
  }
  return ids;
}
