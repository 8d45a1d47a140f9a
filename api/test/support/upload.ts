// A GraphQL multipart request (graphql-multipart-request-spec) carrying zips to uploadTasks.

export interface ZipUpload {
  name: string;
  bytes: Uint8Array;
}

export const UPLOAD_SELECTION = `
  created duplicates rejected rejectedFiles
  files {
    fileName sizeBytes
    errors { code message path }
    warnings { code message path }
    tasks { name rootPath status errors { code message path } warnings { code message path } task { id name contentHash } }
  }`;

export async function uploadZips(
  url: string,
  zips: ZipUpload[],
  selection = UPLOAD_SELECTION,
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: `mutation Upload($files: [Upload!]!) { uploadTasks(files: $files) {
        __typename
        ... on MutationUploadTasksSuccess { data { ${selection} } }
        ... on Error { code message }
      } }`,
      variables: { files: zips.map(() => null) },
    }),
  );
  form.append('map', JSON.stringify(Object.fromEntries(zips.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  zips.forEach((zip, i) => form.append(String(i), new Blob([zip.bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), zip.name));
  // A multipart POST is a "simple" request a foreign page could send: the API wants the CSRF header.
  const response = await fetch(url, { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1' }, body: form });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}
