// Preloaded (node -r) into a process the report bench runs: on exit, its peak RSS and CPU, as one JSON line on
// stderr, so that the figures are the whole process's, start to end.
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(
    `\n${JSON.stringify({ maxRssKB: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime })}\n`,
  );
});
