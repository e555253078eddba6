/**
 * Prepared responses (src/server/reply.ts): the text form that `writePrepared` sends must put exactly
 * the body's bytes on the wire, and is not used where it could not.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import {
  JSON_CONTENT_TYPE,
  type PreparedResponse,
  prepareResponse,
  writePrepared,
} from '../../src/server/reply.js';

/** The raw bytes of the response `prepared` gets on a real socket, head and body. */
async function onTheWire(prepared: PreparedResponse): Promise<Buffer> {
  const server = createServer({ optimizeEmptyRequests: true }, (_req, res) => writePrepared(res, prepared));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(port, '127.0.0.1', () =>
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      );
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('end', () => resolve(Buffer.concat(chunks)));
    });
  } finally {
    server.close();
  }
}

function bodyOf(raw: Buffer): Buffer {
  return raw.subarray(raw.indexOf('\r\n\r\n') + 4);
}

test('an ASCII or UTF-8 body is sent as text, byte for byte, with its Content-Length', async () => {
  for (const text of ['{"name":"vm"}', '{"tags":"Zürich;東京;🚀","note":"\\u00e9"}', '\ufeff{"bom":true}']) {
    const body = Buffer.from(text);
    const prepared = prepareResponse(200, JSON_CONTENT_TYPE, body, { Server: 'IMDS/150.870.65.1544' });
    assert.equal(prepared.text, text);
    const raw = await onTheWire(prepared);
    assert.deepEqual(bodyOf(raw), body);
    assert.match(raw.toString('latin1'), new RegExp(`\r\nContent-Length: ${body.length}\r\n`));
  }
});

test('bytes that are not UTF-8, and a header that is not ASCII, keep the Buffer: the same bytes either way', async () => {
  const binary = Buffer.from([0x7b, 0xff, 0xfe, 0x80, 0x7d]);
  const raw = prepareResponse(200, 'application/octet-stream', binary);
  assert.equal(raw.text, undefined);
  assert.deepEqual(bodyOf(await onTheWire(raw)), binary);
  const latin1 = prepareResponse(200, JSON_CONTENT_TYPE, Buffer.from('{}'), { 'X-Name': 'caf\u00e9' });
  assert.equal(latin1.text, undefined);
  const wire = await onTheWire(latin1);
  assert.ok(wire.includes(Buffer.from('X-Name: caf\u00e9', 'latin1')), 'the header keeps its Latin-1 byte');
});
