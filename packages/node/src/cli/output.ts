// How the CLI prints: JSON for results (easy to pipe into jq), plain lines for people.

export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v), 2)}\n`,
  );
}

export function printLine(line = ""): void {
  process.stdout.write(`${line}\n`);
}
