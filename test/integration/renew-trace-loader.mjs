// A module loader hook that names every module the process resolves (on stderr, "LOAD <url>"), so a
// test can check which modules a command loads. Used with NODE_OPTIONS=--experimental-loader=<this>.
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (!resolved.url.startsWith('node:')) process.stderr.write(`LOAD ${resolved.url}\n`);
  return resolved;
}
