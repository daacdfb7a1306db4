// Formatting shared by the views: short hashes, rates, sizes, times.

export const short = (hex: string | undefined | null, n = 8): string =>
  hex === undefined || hex === null ? "—" : hex.length > n * 2 ? `${hex.slice(0, n)}…` : hex;

export function rate(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  if (v >= 100) return Math.round(v).toLocaleString("en");
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function bytes(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let x = v;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x >= 100 || i === 0 ? Math.round(x) : x.toFixed(1)} ${units[i]}`;
}

export const count = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? "—" : Math.round(v).toLocaleString("en");

/** hh:mm:ss.mmm of a microsecond wall-clock time. */
export function clock(timeUs: number): string {
  const d = new Date(timeUs / 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export const ms = (us: number): string =>
  Math.abs(us) >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : `${(us / 1000).toFixed(1)} ms`;

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
