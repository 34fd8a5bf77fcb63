const { Worker, isMainThread } = require('worker_threads');
function resize(job) {
  if (job.width <= 0) throw new TypeError('invalid width ' + job.width);
}
if (isMainThread) {
  console.log('starting worker');
  new Worker(__filename);
} else {
  setTimeout(() => resize({ width: 0 }), 1);
}
