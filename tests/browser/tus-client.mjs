// A second, independent client of the tus endpoint: tus-js-client in Node,
// as another organisation's program would use it. Uploads one file and
// prints one JSON line: the upload's address, or the error.
// Usage: node tus-client.mjs <endpoint> <capability> <file> <name> [chunk-bytes]
import * as tus from 'tus-js-client';
import fs from 'node:fs';

const [endpoint, capability, file, name, chunk] = process.argv.slice(2);
const size = fs.statSync(file).size;
const upload = new tus.Upload(fs.createReadStream(file), {
  endpoint,
  uploadSize: size,
  chunkSize: Number(chunk || 16 * 1024 * 1024),
  headers: { Authorization: `Bearer ${capability}` },
  metadata: { filename: name, filetype: 'application/pdf' },
  retryDelays: [0, 500, 1000],
  onError: (error) => { console.log(JSON.stringify({ error: String(error) })); process.exitCode = 1; },
  onSuccess: () => { console.log(JSON.stringify({ url: upload.url, size })); },
});
upload.start();
