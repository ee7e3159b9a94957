#!/usr/bin/env node
// dynalite_peer.js: start dynalite (an in-memory DynamoDB from npm) on
// 127.0.0.1 on a free port, print "PORT <n>" once listening, and stop when
// standard input closes or after --max-seconds (tests stay bounded).
//   node dynalite_peer.js [--max-seconds 120]
'use strict';
const path = require('path');
const dynalite = require(path.join(__dirname, 'node_modules', 'dynalite'));

const i = process.argv.indexOf('--max-seconds');
const maxSeconds = i > 0 ? Number(process.argv[i + 1]) : 120;
const server = dynalite({ createTableMs: 0, deleteTableMs: 0,
                          updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('PORT ' + server.address().port + '\n');
});
const stop = () => server.close(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
setTimeout(() => process.exit(0), maxSeconds * 1000).unref();
