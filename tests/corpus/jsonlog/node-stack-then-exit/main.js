'use strict';

function log(level, msg, extra) {
  process.stderr.write(JSON.stringify({ level, time: Date.now(), service: 'gateway', msg, ...extra }) + '\n');
}

class UpstreamError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'UpstreamError';
    this.status = status;
  }
}

function fetchQuote(symbol) {
  throw new UpstreamError(`quote service returned 503 for ${symbol}`, 503);
}

function main() {
  log('info', 'starting');
  try {
    fetchQuote('ACME');
  } catch (err) {
    log('fatal', 'cannot continue', { stack: err.stack, status: err.status });
    process.exit(1);
  }
}

main();
