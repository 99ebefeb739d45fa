/**
 * Plain JavaScript, so it loads before tsx does. Imported into a server process by a test
 * (`NODE_OPTIONS=--import=...`): on SIGUSR2 it rejects a promise nobody handles, the way a
 * forgotten `.catch` in a handler would.
 */
process.on('SIGUSR2', () => {
  void Promise.reject(new Error('a rejection nobody handles (test)'));
});
