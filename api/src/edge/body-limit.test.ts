// A body past the limit is answered 413 while the client is still sending it, over a connection the
// client asked to close: the answer must reach it. Closing the socket as soon as the 413 is written
// made the client's next chunks meet a closed socket, and the reset lost the answer (EPIPE, nothing read).
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { limitBody } from './body-limit.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

it('keeps a Connection: close socket open while a refused chunked body is drained, so the 413 is read', async () => {
  server = createServer((req, res) => {
    const body = limitBody(req, res, { maxBodyBytes: 1024, maxUploadBytes: 1024 });
    if (!body) return;
    body.on('error', () => {}); // yoga's request parser reports it
    body.resume();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  const socket = connect(port, '127.0.0.1');
  let answer = '';
  let closed = false;
  let error: string | undefined;
  socket.on('data', (d) => (answer += d));
  socket.on('close', () => (closed = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
  socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = Buffer.alloc(64 * 1024, 'a');
  // 4 MiB after the limit was crossed, sent only once the server has had time to answer and close.
  for (let i = 0; i < 64 && !closed; i++) {
    socket.write(`${chunk.length.toString(16)}\r\n`);
    socket.write(chunk);
    await new Promise<void>((resolve) => socket.write('\r\n', () => resolve()));
    if (i === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect({ closed, error }).toEqual({ closed: false, error: undefined });
  expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  expect(answer).toContain('request body too large');
  socket.end('0\r\n\r\n');
  await new Promise<void>((resolve) => (closed ? resolve() : socket.once('close', () => resolve())));
});
