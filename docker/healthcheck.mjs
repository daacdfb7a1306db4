// The image's HEALTHCHECK: exits 0 when the node answers GET /health, 1 otherwise. It asks the API
// on loopback at the port in $CAIRN_HOME/config.json (26657 when there is none), or at
// $CAIRN_HEALTH_URL when that is set. Plain JavaScript run by node: the image has no curl or shell.
import { readFileSync } from "node:fs";

let url = process.env.CAIRN_HEALTH_URL;
if (!url) {
  let port = 26657;
  try {
    const config = JSON.parse(readFileSync(`${process.env.CAIRN_HOME || "/cairn"}/config.json`, "utf8"));
    if (Number.isInteger(config?.api?.port)) port = config.api.port;
  } catch {
    // no readable config: the default port
  }
  url = `http://127.0.0.1:${port}/health`;
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  if (!res.ok) console.error(`${url}: HTTP ${res.status}`);
  process.exit(res.ok ? 0 : 1);
} catch (e) {
  console.error(`${url}: ${e?.cause?.code ?? e?.name ?? e}`);
  process.exit(1);
}
