const path = require('path');
function assetPath(name) {
  return path.join('/srv/assets', name);
}
console.log('resolving assets');
assetPath(undefined);
