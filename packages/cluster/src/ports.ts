// Ports for local nodes. A port the kernel hands out for "port 0" (Linux: 32768-60999) can be
// handed to another program between the moment it is chosen and the moment a node binds it; so a
// local cluster's ports are taken below that range, where nothing binds without asking for them.
import { createServer } from "node:net";

const LOW = 20_000;
/** Room above a chosen port for a testnet's API (base+i) and peer-to-peer (base+100+i) ports. */
const HIGH = 32_000;

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A port from 20000 to 31999 that nothing listens on now (tried at random, 200 times at most). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await listenable(port)) return port;
  }
  throw new Error(`no free port from ${LOW} to ${HIGH - 1}`);
}
