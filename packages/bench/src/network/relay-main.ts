// Entry point of the delaying relay process (relay.ts), started in a net lab's router namespace:
// `node relay-main.ts CONFIG_JSON`. Prints "ready" once every pair's port listens; exits on SIGTERM.
import { type RelayConfig, startRelay } from "./relay.ts";

const config = JSON.parse(process.argv[2] ?? "{}") as RelayConfig;
startRelay(config).then(
  () => process.stdout.write("ready\n"),
  (err: Error) => {
    process.stderr.write(`relay: ${err.message}\n`);
    process.exit(1);
  },
);
process.on("SIGTERM", () => process.exit(0));
