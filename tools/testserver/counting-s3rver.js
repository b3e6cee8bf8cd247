#!/usr/bin/env node
// s3rver that counts the requests it serves by S3 operation, for tools/bench.
//
//   node counting-s3rver.js DATA_DIR PORT BUCKET COUNTS_FILE
//
// Listens on 127.0.0.1:PORT with BUCKET created. On SIGUSR2 it writes the counts since the last
// SIGUSR2 as JSON to COUNTS_FILE (write to a temporary name, then rename) and starts again from 0:
//   {"PUT": 10000, "LIST": 11, ...}, and under "seconds" the summed time from request to the
//   end of its response per operation (requests overlap, so these add up to more than wall time).
'use strict';

const fs = require('fs');
const S3rver = require('s3rver');

const [dir, port, bucket, countsFile] = process.argv.slice(2);
if (!countsFile) {
  console.error('usage: counting-s3rver.js DATA_DIR PORT BUCKET COUNTS_FILE');
  process.exit(2);
}

// The operation a request is, from its method and query alone (path-style URLs).
function operation(method, url) {
  const q = new URL(url, 'http://x').searchParams;
  const onBucket = url.split('?')[0].replace(/^\/+|\/+$/g, '').indexOf('/') < 0;
  if (method === 'GET' && (onBucket || q.has('uploads') || q.has('uploadId'))) return 'LIST';
  if (method === 'PUT' && q.has('partNumber')) return 'PUT-part';
  if (method === 'POST' && q.has('uploads')) return 'CREATE-multipart';
  if (method === 'POST' && q.has('uploadId')) return 'COMPLETE-multipart';
  if (method === 'DELETE' && q.has('uploadId')) return 'ABORT-multipart';
  return method;
}

let counts = {};
let seconds = {};
const server = new S3rver({
  directory: dir,
  address: '127.0.0.1',
  port: Number(port),
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});
server.run().then(() => {
  server.httpServer.prependListener('request', (req, res) => {
    const op = operation(req.method, req.url);
    counts[op] = (counts[op] || 0) + 1;
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      seconds[op] = (seconds[op] || 0) + Number(process.hrtime.bigint() - start) / 1e9;
    });
  });
  console.log('listening');
});

process.on('SIGUSR2', () => {
  const tmp = countsFile + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify({ ...counts, seconds }));
  fs.renameSync(tmp, countsFile);
  counts = {};
  seconds = {};
});
process.on('SIGTERM', () => process.exit(0));
