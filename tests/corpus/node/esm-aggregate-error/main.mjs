async function check(host) {
  throw new Error('health check failed for ' + host);
}
console.log('checking');
await Promise.any([check('a.internal'), check('b.internal')]);
