// A dataset straight from zips: one GraphQL multipart request to uploadDataset carrying every zip, so
// the tasks and the version are made in one step (the tasks page's drop zone sends one zip per request).
import { stringifyDocument } from '@urql/core';
import { GRAPHQL_PATH } from '$lib/graphql/client';
import { graphql, type ResultOf } from '$lib/graphql/graphql';
import { ApiError, ErrorFields, unwrap } from '$lib/graphql/ops';

const UPLOAD_DATASET = graphql(
  `mutation UploadDataset($files: [Upload!]!, $name: String!, $version: String!, $description: String) {
    uploadDataset(files: $files, name: $name, version: $version, description: $description) {
      __typename ...ErrorFields
      ... on MutationUploadDatasetSuccess {
        data {
          problem
          datasetVersion { id dataset { id } }
          upload { created duplicates rejected rejectedFiles files { fileName errors { message } tasks { name status errors { code message path } } } }
        }
      }
    }
  }`,
  [ErrorFields],
);
export type UploadDatasetOutcome = Extract<ResultOf<typeof UPLOAD_DATASET>['uploadDataset'], { data: unknown }>['data'];

export async function uploadDataset(files: File[], input: { name: string; version: string; description: string | null }): Promise<UploadDatasetOutcome> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: stringifyDocument(UPLOAD_DATASET), variables: { files: files.map(() => null), ...input } }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((file, i) => form.append(String(i), file, file.name));
  let response: Response;
  try {
    // The API refuses multipart POSTs without this header (CSRF prevention: a foreign page cannot set it).
    response = await fetch(GRAPHQL_PATH, { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1' }, body: form });
  } catch {
    throw new ApiError('Cannot reach the API. Check that the platform is running, then try again.', 'NETWORK');
  }
  if (response.status === 413) throw new ApiError('The zips are too large for the server: upload fewer at once, or raise UPLOAD_MAX_ZIP_MB.', 'TOO_LARGE');
  const body = (await response.json().catch(() => null)) as { data?: ResultOf<typeof UPLOAD_DATASET>; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  const result = body?.data?.uploadDataset;
  if (!result) {
    const first = body?.errors?.[0];
    throw new ApiError(first ? first.message : `The API answered HTTP ${response.status} instead of a result.`, first?.extensions?.code);
  }
  return unwrap(result);
}
