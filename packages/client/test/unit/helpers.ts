import { type ApiServer, type ApiServerOptions, createApiServer } from "@cairn/api";
import { MemoryBackend, type MemoryBackendOptions } from "@cairn/test-utils";
import { afterEach } from "vitest";
import { type CairnClient, type ClientOptions, createClient } from "../../src/index.ts";

export { until as waitFor } from "@cairn/test-utils";

const open: { server: ApiServer; backend: MemoryBackend }[] = [];

afterEach(async () => {
  for (const { server, backend } of open.splice(0)) {
    backend.close();
    await server.close();
  }
});

export interface Harness {
  readonly backend: MemoryBackend;
  readonly server: ApiServer;
  readonly client: CairnClient;
}

/** A real API server over the in-memory backend, and a client of it. */
export async function start(
  backendOpts: MemoryBackendOptions = {},
  serverOpts: Omit<ApiServerOptions, "backend"> = {},
  clientOpts: Omit<ClientOptions, "url"> = {},
): Promise<Harness> {
  const backend = new MemoryBackend(backendOpts);
  const server = await createApiServer({ backend, host: "127.0.0.1", port: 0, ...serverOpts });
  open.push({ server, backend });
  return { backend, server, client: createClient({ url: server.address, ...clientOpts }) };
}
