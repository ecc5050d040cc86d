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
