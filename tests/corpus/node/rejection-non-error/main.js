async function connect(url) {
  await null;
  return Promise.reject('connection refused: ' + url);
}
console.log('connecting');
connect('postgres://db:5432/app');
