const assert = require('assert');
function checkout(cart) {
  assert.strictEqual(cart.items.length, cart.count);
}
console.log('checking out');
checkout({ items: [1, 2], count: 3 });
