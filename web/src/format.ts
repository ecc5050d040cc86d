// Pure formatting helpers (no DOM).

export function formatPercent(v: number): string {
  return v.toFixed(1);
}

export function formatRtt(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** "last seen 4 s ago" / "3 min ago" / "2 h ago" / "5 d ago"; "never" for 0. */
export function formatAgo(tsMs: number, nowMs: number): string {
  if (tsMs <= 0) return 'never';
  const s = Math.max(0, Math.floor((nowMs - tsMs) / 1000));
  if (s < 120) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** Uptime percentage: 100 stays "100", otherwise two decimals never rounded up to 100. */
export function formatUptime(pct: number): string {
  if (pct >= 100) return '100';
  return (Math.floor(pct * 100) / 100).toFixed(2);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB"; three significant digits. */
export function formatBytes(v: number): string {
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1024 && i < BYTE_UNITS.length - 1) {
    x /= 1024;
    i++;
  }
  const digits = i === 0 || x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return `${(Math.sign(v) * x).toFixed(digits)} ${BYTE_UNITS[i]}`;
}

/** A plain number with sensible precision: 12345 → "12345", 12.345 → "12.3", 0.01234 → "0.0123". */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0 || Number.isInteger(v)) return String(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** A value with its unit as the agent sent it: bytes and byte rates get binary prefixes. */
export function formatValue(v: number, unit: string): string {
  if (unit === 'B') return formatBytes(v);
  if (unit === 'B/s') return `${formatBytes(v)}/s`;
  if (unit === 's') return formatDuration(v);
  if (unit === 'ms') return `${formatRtt(v)} ms`;
  if (unit === '') return formatNumber(v);
  return `${formatNumber(v)} ${unit}`;
}

/** 93784 → "1 d 2 h", 3723 → "1 h 2 min", 59 → "59 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}
