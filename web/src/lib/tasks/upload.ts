// One zip, one GraphQL multipart request (operations, map, then the file) over XMLHttpRequest, so the
// browser reports upload progress per file. Every way it can go wrong ends as a sentence.
import { GRAPHQL_PATH } from '$lib/graphql/client';
import { bytes } from '$lib/format';
import { stringifyDocument } from '@urql/core';
import { graphql, type ResultOf } from '$lib/graphql/graphql';
import { UploadedFileFields, type UploadedFile } from './fields';

const UPLOAD_MUTATION = graphql(
  `mutation UploadTasks($files: [Upload!]!) {
    uploadTasks(files: $files) {
      __typename
      ... on Error { code message }
      ... on MutationUploadTasksSuccess { data { created duplicates rejected rejectedFiles files { ...UploadedFile } } }
    }
  }`,
  [UploadedFileFields],
);
type UploadOutcome = ResultOf<typeof UPLOAD_MUTATION>['uploadTasks'];

/** The upload could not deliver an outcome; `message` says what to do about it. */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly code: 'NETWORK' | 'TOO_LARGE' | 'ABORTED' | 'TIMEOUT' | 'SERVER' | 'INVALID_INPUT',
  ) {
    super(message);
  }
}

export interface Progress {
  loaded: number;
  total: number;
}


function graphqlMessage(body: unknown): string | undefined {
  const errors = (body as { errors?: { message?: string }[] } | null)?.errors;
  return errors?.length ? errors.map((e) => e.message ?? 'unknown error').join('; ') : undefined;
}

export function uploadZip(file: File, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: stringifyDocument(UPLOAD_MUTATION), variables: { files: [null] } }));
    form.append('map', JSON.stringify({ '0': ['variables.files.0'] }));
    form.append('0', file, file.name);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', GRAPHQL_PATH);
    // The API refuses multipart POSTs without it (CSRF prevention: a foreign page cannot set it).
    xhr.setRequestHeader('x-graphql-yoga-csrf', '1');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onerror = () =>
      reject(new UploadError('The upload was cut off: the API could not be reached. Check the connection and that the platform is running, then try again.', 'NETWORK'));
    xhr.ontimeout = () => reject(new UploadError('The API took too long to answer. Try again, or upload fewer or smaller zips at once.', 'TIMEOUT'));
    xhr.onabort = () => reject(new UploadError('Upload cancelled.', 'ABORTED'));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: a proxy page or a crash; explained below by the status
      }
      const detail = graphqlMessage(body);
      if (xhr.status === 413 || (detail && /size limit|too large|exceed/i.test(detail) && !(body as { data?: unknown })?.data)) {
        const limit = /([\d.]+) bytes/.exec(detail ?? '')?.[1];
        reject(
          new UploadError(
            `${file.name} is too large for the server: ${bytes(file.size)}${limit ? `, over its limit of ${bytes(Number(limit))} per zip` : ''}. ` +
              'Split the tasks into smaller zips, or raise UPLOAD_MAX_ZIP_MB on the platform.',
            'TOO_LARGE',
          ),
        );
        return;
      }
      const result = (body as { data?: { uploadTasks?: UploadOutcome } } | null)?.data?.uploadTasks;
      if (!result) {
        reject(
          new UploadError(
            detail
              ? `The API refused the upload: ${detail}`
              : `The API answered HTTP ${xhr.status || 'with nothing'} instead of an upload result. Try again; if it repeats, check the API's log.`,
            'SERVER',
          ),
        );
        return;
      }
      if (!('data' in result)) {
        reject(new UploadError(('message' in result ? result.message : undefined) ?? `The API refused the upload (${result.__typename}).`, 'INVALID_INPUT'));
        return;
      }
      const outcome = result.data.files[0];
      if (!outcome) reject(new UploadError('The API answered without a result for this file.', 'SERVER'));
      else resolve(outcome);
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    onProgress({ loaded: 0, total: file.size });
    xhr.send(form);
  });
}
