import { generateKeyPair, type KeyPair, utf8 } from "@cairn/crypto";
import { type SignedTransaction, signTransaction, type Value } from "@cairn/messaging";
import { MemoryBackend, type MemoryBackendOptions } from "@cairn/test-utils";
import { afterEach } from "vitest";
import { type ApiServer, type ApiServerOptions, createApiServer } from "../../src/index.ts";

export interface Harness {
  readonly backend: MemoryBackend;
  readonly server: ApiServer;
  readonly url: string;
  readonly key: KeyPair;
  /** A fresh, validly signed kv.put on the harness's chain. */
  tx(overrides?: Partial<TxParams>): SignedTransaction;
}

interface TxParams {
  chainId: string;
  contract: string;
  method: string;
  args: Value[];
  expiry: number;
  /** The key that sends and signs it; the harness's `key` by default. */
  sender: KeyPair;
}

const open: { server: ApiServer; backend: MemoryBackend }[] = [];

afterEach(async () => {
  for (const { server, backend } of open.splice(0)) {
    backend.close();
    await server.close();
  }
});

let counter = 0;

export async function start(
  serverOpts: Omit<ApiServerOptions, "backend"> = {},
  backendOpts: MemoryBackendOptions = {},
): Promise<Harness> {
  const backend = new MemoryBackend(backendOpts);
  const server = await createApiServer({ backend, host: "127.0.0.1", port: 0, ...serverOpts });
  open.push({ server, backend });
  const key = generateKeyPair();
  return {
    backend,
    server,
    url: server.address,
    key,
    tx: (o = {}) => {
      counter++;
      const nonce = new Uint8Array(16);
      new DataView(nonce.buffer).setUint32(0, counter);
      crypto.getRandomValues(nonce.subarray(4));
      const sender = o.sender ?? key;
      return signTransaction(
        {
          chainId: o.chainId ?? backend.chainId,
          sender: sender.publicKey,
          nonce,
          expiry: o.expiry ?? backend.height + 100,
          contract: o.contract ?? "kv",
          method: o.method ?? "put",
          args: o.args ?? [utf8.encode(`k${counter}`), utf8.encode(`v${counter}`)],
        },
        sender.secretKey,
      );
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function postBytes(url: string, body: Uint8Array, type: string, headers: Record<string, string> = {}) {
  // fetch wants an ArrayBuffer-backed view; ours always are.
  return fetch(url, {
    method: "POST",
    headers: { "content-type": type, ...headers },
    body: body as Uint8Array<ArrayBuffer>,
  });
}

export type Json = any;
