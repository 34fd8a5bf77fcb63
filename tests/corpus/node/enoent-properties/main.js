const fs = require('fs');
function readConfig(path) {
  return JSON.parse(fs.readFileSync(path, 'utf8'));
}
console.log('starting');
readConfig('/etc/app/settings.json');
