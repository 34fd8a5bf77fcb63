console.log('never printed');
const total = items.reduce((a, b) => a + b, ;
