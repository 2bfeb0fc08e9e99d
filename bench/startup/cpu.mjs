// Preloaded first by the start-up bench: reports the process's CPU time (all threads) at exit.
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write(`\ncpu-us ${user + system}\n`);
});
