// A headless Chromium for the tests that drive a real browser (the bench report, the console):
// Debian's \`chromium\`, driven by puppeteer-core, which downloads no browser. When none is found and
// we run as root, it is installed with apt-get (once per machine: a minute or two); when there is
// still none, chromium() throws with the reason, so a browser test FAILS rather than skips.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  process.env.PUPPETEER_EXECUTABLE_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

export function findChromium(): string | undefined {
  for (const c of CANDIDATES) {
    if (c === undefined || c === "") continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return undefined;
}

/** A Chromium binary, installed with apt-get when missing and we are root; throws with the reason otherwise. */
export function chromium(): string {
  const found = findChromium();
  if (found !== undefined) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "no Chromium found (looked at $CHROMIUM_PATH, /usr/bin/chromium, ...) and not root, so cannot apt-get install chromium",
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Within ~3 minutes in all: the package lists when apt does not know chromium (or the install
  // failed on stale lists), and the install, which waits up to 60 s for another apt/dpkg run's lock.
  const deadline = Date.now() + 180_000;
  const run = (cmd: string, args: string[], max: number) =>
    spawnSync(cmd, args, { env, encoding: "utf8", timeout: Math.max(1_000, Math.min(max, deadline - Date.now())) });
  const install = () =>
    run("apt-get", ["-o", "DPkg::Lock::Timeout=60", "install", "-y", "--no-install-recommends", "chromium"], 150_000);
  let updated = false;
  if (run("apt-cache", ["show", "chromium"], 30_000).status !== 0) {
    run("apt-get", ["update"], 60_000);
    updated = true;
  }
  let r = install();
  if (r.status !== 0 && !updated && deadline - Date.now() > 90_000) {
    run("apt-get", ["update"], 60_000);
    r = install();
  }
  const installed = findChromium();
  if (installed === undefined) {
    const why = r.error?.message ?? `${r.stderr ?? ""}`.trim().split("\n").slice(-5).join("\n");
    throw new Error(`no Chromium: apt-get install chromium failed (exit ${r.status}): ${why}`);
  }
  return installed;
}

/** A headless Chromium (chromium() above) as the browser tests and benchmarks run it: as root, so no sandbox. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromium(),
    headless: true,
    // /dev/shm may be small in containers.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
    timeout: 60_000,
  });
}
