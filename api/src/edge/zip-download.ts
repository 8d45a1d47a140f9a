// Sending a zip built on the fly (yazl) as a download: the task package and a trial's files.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type yazl from 'yazl';

/** Ends `zip` and streams it to `res`; resolves once it is sent or the client has left. */
export async function sendZip(zip: yazl.ZipFile, res: ServerResponse): Promise<void> {
  const output = zip.outputStream as Readable;
  zip.end();
  output.pipe(res);
  await new Promise<void>((resolve, reject) => {
    res.once('finish', resolve);
    res.once('close', () => {
      // The client left: stop reading files for nobody.
      output.destroy();
      resolve();
    });
    output.once('error', reject);
  });
}
