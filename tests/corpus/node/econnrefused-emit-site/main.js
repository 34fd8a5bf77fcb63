const http = require('http');
console.log('calling backend');
http.get('http://127.0.0.1:1/health', (res) => res.resume());
