const EventEmitter = require('events');
class Queue extends EventEmitter {
  push(item) {
    if (!item) this.emit('error', new Error('empty item pushed to queue'));
  }
}
console.log('queue ready');
new Queue().push(null);
