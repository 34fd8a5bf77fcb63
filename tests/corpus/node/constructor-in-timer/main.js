class Session {
  constructor(user) {
    if (!user.id) throw new RangeError('user without id: ' + JSON.stringify(user));
    this.user = user;
  }
}
console.log('scheduling');
setTimeout(() => { new Session({ name: 'ada' }); }, 5);
