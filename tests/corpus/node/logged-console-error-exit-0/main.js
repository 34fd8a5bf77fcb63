function parse(line) {
  const [k, v] = line.split('=');
  if (v === undefined) throw new SyntaxError('missing value in "' + line + '"');
  return [k, v];
}
for (const line of ['a=1', 'broken', 'c=3']) {
  try {
    parse(line);
  } catch (err) {
    console.error(err);
  }
}
const e = new Error('disk almost full');
e.code = 'E_DISK';
console.error(e);
console.log('done');
