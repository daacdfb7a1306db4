// `cairn start --cpu-profile DIR`: a V8 CPU profile of the node's main thread from start to stop
// (what CometBFT's pprof gives a Go node), written to DIR when the node stops. Unlike
// `node --cpu-prof`, it leaves the verify workers unsampled, so their CPU stays theirs.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

/** Starts sampling every `intervalUs`; the returned function stops it and writes the profile, returning its path. */
export async function startCpuProfile(dir: string, intervalUs = 1000): Promise<() => Promise<string>> {
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
  await session.post("Profiler.start");
  const started = new Date();
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    // Named as `node --cpu-prof` names a main thread's profile: CPU.<date>.<time>.<pid>.0.001.cpuprofile.
    const stamp = started.toISOString().replace(/[-:]/g, "").replace("T", ".").slice(0, 15);
    const file = join(dir, `CPU.${stamp}.${process.pid}.0.001.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  };
}
