/**
 * An HTTP CONNECT proxy on loopback for the proxy tests: it records every tunnel asked for (host:port)
 * and every plain request (which it refuses: gxit-cert must tunnel), and can route a target to another
 * address, so a client can reach through it what it cannot reach directly.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import http from 'node:http';

export interface ConnectProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Targets of CONNECT requests, in order, as asked ("localhost:14000"). */
  tunnels: string[];
  /** Plain (non-CONNECT) requests: "GET http://...". */
  plain: string[];
  /** Proxy-Authorization headers seen. */
  authorizations: string[];
  close(): Promise<void>;
}

/** `routes` maps a CONNECT target ("localhost:14000") to where the proxy really connects ("127.0.10.1:14000"). */
export async function startConnectProxy(routes: Record<string, string> = {}, host = '127.0.0.1'): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const plain: string[] = [];
  const authorizations: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    plain.push(`${req.method ?? '?'} ${req.url ?? ''}`);
    res.writeHead(405, { connection: 'close' });
    res.end('this proxy only tunnels (CONNECT)\n');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const auth = req.headers['proxy-authorization'];
    if (typeof auth === 'string') authorizations.push(auth);
    const destination = routes[target] ?? target;
    const at = destination.lastIndexOf(':');
    const upstream = connect(Number(destination.slice(at + 1)), destination.slice(0, at).replace(/^\[(.*)\]$/, '$1'));
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    tunnels,
    plain,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
