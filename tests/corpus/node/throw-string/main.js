function loadPlugin(name) {
  if (!name.endsWith('.so')) throw 'plugin ' + name + ' has no .so suffix';
}
console.log('loading plugins');
loadPlugin('metrics');
