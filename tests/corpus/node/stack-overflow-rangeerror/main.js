function depth(node) {
  return node.parent ? depth(node.parent) + 1 : 0;
}
const n = {};
n.parent = n;
console.log('measuring');
depth(n);
