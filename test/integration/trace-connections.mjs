// Preloaded with NODE_OPTIONS=--import=<this>: names every TCP connection the process opens (on
// stderr, "CONNECT host:port"), so a test can check how many connections a command makes.
import net from 'node:net';

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function traced(...args) {
  const [first, second] = args;
  const target = typeof first === 'object' && first !== null ? `${first.host ?? 'localhost'}:${first.port ?? first.path}` : `${second ?? 'localhost'}:${first}`;
  process.stderr.write(`CONNECT ${target}\n`);
  return connect.apply(this, args);
};
