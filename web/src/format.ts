// Numbers as short words for the page (the same wording as peftstudio/units.py).

export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)} days ${h % 24}h`;
}

export function bytes(n: number | null | undefined): string {
  if (n == null || !isFinite(n)) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function num(v: number | null | undefined, digits = 3): string {
  if (v == null || !isFinite(v)) return "–";
  return Number(v.toPrecision(digits)).toLocaleString("en", { maximumSignificantDigits: digits });
}

export function range(r: { min: number; max: number } | undefined, f: (v: number) => string): string {
  if (!r) return "–";
  const a = f(r.min);
  const b = f(r.max);
  return a === b ? a : `${a} – ${b}`;
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
