function fail() {
  throw { status: 503, reason: 'upstream unavailable' };
}
console.log('calling upstream');
fail();
