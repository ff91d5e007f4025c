/**
 * First SIGINT/SIGTERM: abandon the run gracefully, so TXT records are still removed.
 * A second one exits at once.
 */
export function onInterrupt(handler: () => void): () => void {
  let seen = 0;
  const listener = (signal: NodeJS.Signals): void => {
    seen++;
    if (seen === 1) {
      process.stderr.write(`${signal}: stopping after cleanup (send again to exit at once)\n`);
      handler();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}
