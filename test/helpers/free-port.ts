import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: for a server that must be reachable before
 * it says where it listens (a test polling it while it starts). The OS picks it, so a clash needs
 * another process to grab the same port in between.
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
