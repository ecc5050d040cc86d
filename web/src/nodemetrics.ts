// A node's current metrics grouped for the detail page (pure: no DOM). Names follow
// docs/sensors.md and docs/protocol.md; anything not recognised lands in "Other", so a node
// always shows every metric it has.
import { formatBytes, formatDuration, formatNumber, formatPercent, formatRtt, formatValue } from './format';
import { parseMetricName, type FamilyName } from './metricname';
import type { FleetNode, Metric, TargetInfo } from './protocol';

export interface Row {
  /** Stable identity within its group (for in-place updates). */
  key: string;
  label: string;
  value: string;
  /** 0..100: drawn as a bar under the value. */
  pct?: number;
  /** Tone of the value: 'bad' / 'warn' (shown with an icon word too, never by colour alone). */
  tone?: 'bad' | 'warn';
  stale?: boolean;
}

export interface Group {
  id: string;
  title: string;
  rows: Row[];
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function num(m: Metric | undefined): number | null {
  return m && m.value !== null ? m.value : null;
}

/** A percentage with a bar; "—" (no bar) while the metric has no value yet (rates need two samples). */
function pctRow(key: string, label: string, m: Metric | undefined, extra = ''): Row | null {
  if (!m) return null;
  const v = num(m);
  const row: Row =
    v === null
      ? { key, label, value: `—${extra}` }
      : { key, label, value: `${formatPercent(v)} %${extra}`, pct: Math.max(0, Math.min(100, v)) };
  if (m.stale) row.stale = true;
  return row;
}

function valueRow(key: string, label: string, m: Metric | undefined): Row | null {
  if (!m) return null;
  const row: Row = { key, label, value: m.text ?? (m.value === null ? '—' : formatValue(m.value, m.unit)) };
  if (m.stale) row.stale = true;
  return row;
}

function push(rows: Row[], row: Row | null): void {
  if (row) rows.push(row);
}

/** Marks a row built from several metrics stale when any of them is (the node's session ended). */
function withStale(row: Row, metrics: Iterable<Metric | undefined>): Row {
  for (const m of metrics) {
    if (m?.stale) {
      row.stale = true;
      break;
    }
  }
  return row;
}

/** Splits "disk/<mount>/<field>" style names: prefix "disk/" → Map<mount, Map<field, Metric>>. */
function byItem(metrics: Map<string, Metric>, prefix: string, used: Set<string>): Map<string, Map<string, Metric>> {
  const out = new Map<string, Map<string, Metric>>();
  for (const [name, m] of metrics) {
    if (!name.startsWith(prefix)) continue;
    const slash = name.lastIndexOf('/');
    if (slash <= prefix.length) continue;
    const item = name.slice(prefix.length, slash);
    let fields = out.get(item);
    if (!fields) out.set(item, (fields = new Map()));
    fields.set(name.slice(slash + 1), m);
    used.add(name);
  }
  return sortItems(out);
}

/** A probe family's metrics ("<family>/<target>/<leaf>", metricname.ts) → Map<target, Map<leaf, Metric>>. */
function byTarget(metrics: Map<string, Metric>, family: FamilyName, used: Set<string>): Map<string, Map<string, Metric>> {
  const out = new Map<string, Map<string, Metric>>();
  for (const [name, m] of metrics) {
    const p = parseMetricName(name);
    if (!p.probe || p.family !== family) continue;
    let leaves = out.get(p.target);
    if (!leaves) out.set(p.target, (leaves = new Map()));
    leaves.set(p.leaf, m);
    used.add(name);
  }
  return sortItems(out);
}

/** "root" (the / mount) first, then by name. */
function sortItems<T>(items: Map<string, T>): Map<string, T> {
  return new Map([...items].sort((a, b) => Number(b[0] === 'root') - Number(a[0] === 'root') || collator.compare(a[0], b[0])));
}

function mountLabel(mount: string): string {
  return mount === 'root' ? '/' : `/${mount}`;
}

const THROTTLE_FLAGS: ReadonlyArray<[string, string]> = [
  ['under_voltage', 'Under-voltage'],
  ['freq_capped', 'Frequency capped'],
  ['throttled', 'Throttled'],
  ['soft_temp_limit', 'Soft temperature limit'],
];

const TARGET_STATE = ['unknown', 'up', 'degraded', 'down'];

export function groupMetrics(node: FleetNode): Group[] {
  const metrics = new Map<string, Metric>();
  for (const m of node.metrics) metrics.set(m.name, m);
  const used = new Set<string>();
  const get = (name: string): Metric | undefined => {
    const m = metrics.get(name);
    if (m) used.add(name);
    return m;
  };
  const groups: Group[] = [];

  // CPU: total, per core (with frequency), load, processes.
  const cpu: Row[] = [];
  push(cpu, pctRow('total', 'Total', get('cpu/total')));
  const cores = [...metrics.keys()]
    .filter((n) => /^cpu\/core\d+$/.test(n))
    .sort(collator.compare);
  for (const name of cores) {
    const n = name.slice('cpu/core'.length);
    const freq = num(get(`cpu/freq/core${n}`));
    push(cpu, pctRow(`core${n}`, `Core ${n}`, get(name), freq === null ? '' : ` · ${formatNumber(freq)} MHz`));
  }
  push(cpu, valueRow('count', 'Cores online', get('cpu/count')));
  const loadMetrics = ['1m', '5m', '15m'].map((w) => get(`load/${w}`));
  const loads = loadMetrics.map(num);
  if (loads.some((l) => l !== null)) {
    cpu.push(withStale({ key: 'load', label: 'Load 1 / 5 / 15 min', value: loads.map((l) => (l === null ? '—' : l.toFixed(2))).join(' / ') }, loadMetrics));
  }
  const runningM = get('proc/running');
  const procsM = get('proc/total');
  const running = num(runningM);
  const procs = num(procsM);
  if (running !== null || procs !== null) {
    cpu.push(withStale({ key: 'procs', label: 'Processes', value: `${running ?? '—'} running / ${procs ?? '—'}` }, [runningM, procsM]));
  }
  groups.push({ id: 'cpu', title: 'CPU', rows: cpu });

  // Memory and swap.
  const mem: Row[] = [];
  const memTotal = num(get('mem/total'));
  const memUsed = num(get('mem/used'));
  push(mem, pctRow('used', 'Used', get('mem/used_percent'),
    memUsed !== null && memTotal !== null ? ` · ${formatBytes(memUsed)} of ${formatBytes(memTotal)}` : ''));
  push(mem, valueRow('available', 'Available', get('mem/available')));
  push(mem, valueRow('buff_cache', 'Buffers / cache', get('mem/buff_cache')));
  push(mem, valueRow('free', 'Free', get('mem/free')));
  if (!mem.some((r) => r.key === 'used')) push(mem, valueRow('used-bytes', 'Used', metrics.get('mem/used')));
  if (!mem.some((r) => r.key === 'total') && memTotal !== null) mem.push({ key: 'total', label: 'Total', value: formatBytes(memTotal) });
  const swapTotal = num(get('swap/total'));
  const swapUsed = num(get('swap/used'));
  const swapPct = get('swap/used_percent');
  if (swapTotal === 0) {
    mem.push({ key: 'swap', label: 'Swap', value: 'none' });
  } else if (swapTotal !== null || swapPct) {
    push(mem, pctRow('swap', 'Swap used', swapPct,
      swapUsed !== null && swapTotal !== null ? ` · ${formatBytes(swapUsed)} of ${formatBytes(swapTotal)}` : ''));
  }
  groups.push({ id: 'memory', title: 'Memory', rows: mem });

  // Disks per mount, then disk I/O per device.
  const disks: Row[] = [];
  for (const [mount, f] of byItem(metrics, 'disk/', used)) {
    const total = num(f.get('total'));
    const usedB = num(f.get('used'));
    const avail = num(f.get('avail'));
    const detail =
      (usedB !== null && total !== null ? ` · ${formatBytes(usedB)} of ${formatBytes(total)}` : '') +
      (avail !== null ? ` · ${formatBytes(avail)} free` : '');
    const row = pctRow(`mount:${mount}`, mountLabel(mount), f.get('used_percent'), detail);
    if (row) {
      withStale(row, f.values());
      if (row.pct !== undefined && row.pct >= 90) row.tone = row.pct >= 95 ? 'bad' : 'warn';
      disks.push(row);
    }
  }
  for (const [dev, f] of byItem(metrics, 'diskio/', used)) {
    const r = num(f.get('read_bytes_per_s'));
    const w = num(f.get('write_bytes_per_s'));
    const busy = num(f.get('busy_percent'));
    disks.push(withStale({
      key: `io:${dev}`,
      label: `${dev} I/O`,
      value: `read ${r === null ? '—' : `${formatBytes(r)}/s`} · write ${w === null ? '—' : `${formatBytes(w)}/s`}` +
        (busy === null ? '' : ` · busy ${formatPercent(busy)} %`),
    }, f.values()));
  }
  groups.push({ id: 'disks', title: 'Disks', rows: disks });

  // Network rates per interface, Wi-Fi link.
  const net: Row[] = [];
  for (const [ifname, f] of byItem(metrics, 'net/', used)) {
    const rate = (k: string) => {
      const v = num(f.get(k));
      return v === null ? '—' : `${formatBytes(v)}/s`;
    };
    let errors = 0;
    for (const k of ['rx_errors_per_s', 'tx_errors_per_s', 'rx_dropped_per_s', 'tx_dropped_per_s']) errors += num(f.get(k)) ?? 0;
    const row: Row = { key: `if:${ifname}`, label: ifname, value: `↓ ${rate('rx_bytes_per_s')} · ↑ ${rate('tx_bytes_per_s')}` };
    if (errors > 0) {
      row.value += ` · ▲ ${formatNumber(errors)} errors+drops/s`;
      row.tone = 'warn';
    }
    net.push(withStale(row, f.values()));
  }
  for (const [ifname, f] of byItem(metrics, 'wifi/', used)) {
    const sig = num(f.get('signal_dbm'));
    const link = num(f.get('link_percent'));
    net.push(withStale({
      key: `wifi:${ifname}`,
      label: `${ifname} Wi-Fi`,
      value: [link === null ? '' : `link ${formatPercent(link)} %`, sig === null ? '' : `signal ${formatNumber(sig)} dBm`]
        .filter(Boolean)
        .join(' · ') || '—',
    }, f.values()));
  }
  groups.push({ id: 'network', title: 'Network', rows: net });

  // Temperatures and environment sensors.
  const temps: Row[] = [];
  for (const [name, m] of metrics) {
    const isTemp =
      name === 'soc/temperature' || name.startsWith('thermal/') || /^w1\/[^/]+\/temperature$/.test(name) || name.startsWith('bme280/');
    if (!isTemp) continue;
    used.add(name);
    const label = name === 'soc/temperature' ? 'SoC' : name.replace(/^thermal\//, '').replace(/\/temperature$/, '');
    const row = valueRow(`t:${name}`, label, m);
    if (row && m.unit === '°C' && m.value !== null && m.value >= 70) {
      row.tone = m.value >= 80 ? 'bad' : 'warn';
      row.value = `${m.value >= 80 ? '✖' : '▲'} ${row.value}`;
    }
    push(temps, row);
  }
  temps.sort((a, b) => (a.label === 'SoC' ? -1 : b.label === 'SoC' ? 1 : collator.compare(a.label, b.label)));
  groups.push({ id: 'temperatures', title: 'Temperatures & sensors', rows: temps });

  // Raspberry Pi firmware health flags (get_throttled).
  const pi: Row[] = [];
  for (const [flag, label] of THROTTLE_FLAGS) {
    const now = get(`throttle/${flag}`);
    const ever = get(`throttle/${flag}_occurred`);
    if (!now && !ever) continue;
    const isNow = num(now) === 1;
    const wasEver = num(ever) === 1;
    const row: Row = { key: flag, label, value: isNow ? '✖ now' : wasEver ? '▲ since boot' : '● no' };
    if (isNow) row.tone = 'bad';
    else if (wasEver) row.tone = 'warn';
    pi.push(withStale(row, [now, ever]));
  }
  const rawM = get('throttle/raw');
  const raw = num(rawM);
  if (raw !== null) {
    pi.push(withStale({ key: 'raw', label: 'get_throttled', value: `0x${Math.max(0, Math.trunc(raw)).toString(16)}` }, [rawM]));
  }
  groups.push({ id: 'pi', title: 'Raspberry Pi health', rows: pi });

  // Ping targets: the gateway's rolling view plus this round's values.
  const pings: Row[] = [];
  const targets = new Map<string, TargetInfo>();
  // The gateway tracks every probe family's targets; '' = a gateway that does not say which.
  for (const t of node.targets) if (t.family === 'ping' || t.family === '') targets.set(t.target, t);
  for (const [target, f] of byTarget(metrics, 'ping', used)) {
    const info = targets.get(target);
    const rtt = num(f.get('rtt'));
    const loss = num(f.get('loss'));
    const state = num(f.get('state')) ?? info?.state ?? null;
    const stateWord = state === null ? '' : (TARGET_STATE[state] ?? 'unknown');
    const parts = [
      rtt === null ? (f.has('rtt') ? 'timeout' : '') : `${formatRtt(rtt)} ms`,
      loss === null ? '' : `loss ${formatNumber(loss)} %`,
      info?.uptime.h24 == null ? '' : `24 h ${formatPercent(info.uptime.h24)} %`,
    ].filter(Boolean);
    const icon = state === 3 ? '✖ ' : state === 2 ? '▲ ' : state === 1 ? '● ' : '';
    const row: Row = { key: `ping:${target}`, label: target, value: `${icon}${stateWord}${stateWord && parts.length ? ' · ' : ''}${parts.join(' · ')}` };
    if (state === 3) row.tone = 'bad';
    else if (state === 2 || (rtt === null && f.has('rtt'))) row.tone = 'warn';
    pings.push(withStale(row, f.values()));
  }
  groups.push({ id: 'pings', title: 'Ping targets', rows: pings });

  // The system and the agent itself.
  const sys: Row[] = [];
  const upM = get('uptime');
  const up = num(upM);
  if (up !== null) sys.push(withStale({ key: 'uptime', label: 'Booted', value: `${formatDuration(up)} ago` }, [upM]));
  push(sys, valueRow('reboots', 'Reboots seen', get('boot/reboots_seen')));
  push(sys, valueRow('config', 'Agent config', get('agent/config/version')));
  push(sys, valueRow('config-status', 'Agent config status', get('agent/config/status')));
  push(sys, valueRow('buffered', 'Buffered samples', get('agent/buffer/records')));
  const dropped = get('agent/buffer/dropped');
  const droppedRow = valueRow('dropped', 'Dropped samples', dropped);
  if (droppedRow && num(dropped) !== null && (num(dropped) ?? 0) > 0) droppedRow.tone = 'warn';
  push(sys, droppedRow);
  const damaged = get('agent/buffer/damaged');
  const damagedRow = valueRow('damaged', 'Samples lost to buffer damage', damaged);
  if (damagedRow && (num(damaged) ?? 0) > 0) damagedRow.tone = 'warn';
  push(sys, damagedRow);
  push(sys, valueRow('seq', 'Sample number', get('agent/sample_seq')));
  groups.push({ id: 'system', title: 'System & agent', rows: sys });

  // Everything else (e.g. a simulated board's service/* metrics).
  const other: Row[] = [];
  for (const [name, m] of metrics) {
    if (used.has(name) || name === 'bdSeq') continue;
    push(other, valueRow(`m:${name}`, name, m));
  }
  other.sort((a, b) => collator.compare(a.label, b.label));
  groups.push({ id: 'other', title: 'Other metrics', rows: other });

  return groups;
}
