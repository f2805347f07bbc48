'use strict';
/*
 * The benchmark's figures and reports: medians of the runs, the Markdown
 * tables, the targets (issue #15), and the SVG chart. Pure functions of the
 * results that scripts/bench.js gathers:
 *
 *   results[workloadId] = { workload, servers: [spec], cells: { [serverId]: cell } }
 *   cell = { runs: [run], errors: [string], skipped: string|null, summary }
 *   run  = { value, cpuPerOpUs, serverUtil, genUtil, latencyUs: { p50, p99, p999 }, otherLoad, disturbed, problems }
 *
 * Every ratio is taken between medians of the same run of the harness. The
 * base of the ratios is the C epoll server (node:http for the HTTP workload,
 * which has no C server).
 */

const ANCHOR = 'net';
const C_BASE = 'c-epoll';
const HTTP_ANCHOR = 'http-node';
// a run during which other processes used more than this many cores is "disturbed" (and retried once)
const NOISE_CORES = 0.2;

// ---------------------------------------------------------------- stats

function median(xs) {
  const s = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function extent(xs) {
  const s = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x));
  return s.length ? [Math.min(...s), Math.max(...s)] : [null, null];
}

/** The medians (and min–max) of a cell's runs. */
function summarize(cell) {
  const runs = cell.runs;
  if (!runs.length) return null;
  const vals = runs.map((r) => r.value);
  const lat = (k) => runs.map((r) => r.latencyUs && r.latencyUs[k]);
  const [cpuMin, cpuMax] = extent(runs.map((r) => r.cpuPerOpUs));
  const [p99Min, p99Max] = extent(lat('p99'));
  return {
    value: median(vals),
    min: Math.min(...vals),
    max: Math.max(...vals),
    n: runs.length,
    cpuPerOpUs: median(runs.map((r) => r.cpuPerOpUs)),
    cpuMin,
    cpuMax,
    faultsPerOp: median(runs.map((r) => r.faultsPerOp)),
    serverUtil: median(runs.map((r) => r.serverUtil)),
    genUtil: median(runs.map((r) => r.genUtil)),
    p50: median(lat('p50')),
    p99: median(lat('p99')),
    p999: median(lat('p999')),
    p99Min,
    p99Max,
    otherLoad: median(runs.map((r) => r.otherLoad)),
    disturbed: runs.filter((r) => r.disturbed).length,
    problems: runs.flatMap((r) => r.problems),
  };
}

/** The summary of the base a cell is compared with (C epoll; node:http for HTTP), or null. */
function baseOf(row) {
  const id = row.workload.http ? HTTP_ANCHOR : C_BASE;
  const c = row.cells[id];
  return c && c.summary ? { id, s: c.summary } : null;
}

const ratio = (a, b) => (a !== null && a !== undefined && b ? a / b : null);

/** A cell's ratios to the base and to node:net: throughput, server CPU per op, p99. */
function ratiosOf(row, s) {
  const base = baseOf(row);
  const anchor = !row.workload.http && row.cells[ANCHOR] && row.cells[ANCHOR].summary;
  const of = (b) => (b ? { value: ratio(s.value, b.value), cpuPerOp: ratio(s.cpuPerOpUs, b.cpuPerOpUs), p99: ratio(s.p99, b.p99) } : null);
  return { base: base ? base.id : null, toBase: of(base && base.s), toNet: of(anchor) };
}

// --------------------------------------------------------------- format

function fmt(x, digits) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const d = digits !== undefined ? digits : Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}
const fmtRatio = (r) => (r === null || r === undefined ? '—' : `${r.toFixed(2)}×`);
function fmtLat(us) {
  if (us === null || us === undefined) return '—';
  return us >= 1000 ? `${fmt(us / 1000, us >= 100000 ? 0 : 1)} ms` : `${fmt(us, 0)} µs`;
}

// --------------------------------------------------------------- tables

function buildTables(results, ctx) {
  const lines = [];
  const notes = [];
  lines.push('| workload | server | median | min–max | p50 / p99 / p99.9 latency | server CPU per op | server CPU | × C | CPU/op × C | p99 × C | × node:net |');
  lines.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  const empty = ' | | | | | | | | |';
  let genBound = false;
  let noisy = false;
  const faulting = [];
  for (const wl of ctx.workloads) {
    const row = results[wl.id];
    if (!row) continue;
    for (const srv of row.servers) {
      const cell = row.cells[srv.id];
      if (cell.skipped) {
        lines.push(`| ${wl.label} | ${srv.label} | skipped${empty}`);
        if (!ctx.serverNotes.has(srv.id)) notes.push(`${wl.label} / ${srv.label}: skipped, ${cell.skipped}`);
        continue;
      }
      const s = cell.summary;
      if (!s) {
        lines.push(`| ${wl.label} | ${srv.label} | ${cell.errors.length ? 'failed' : 'not run'}${empty}`);
        continue;
      }
      let flag = '';
      if (s.problems.length) flag += ' ⚠';
      if (s.genUtil !== null && s.genUtil > 0.9) {
        flag += ' ᴳ';
        genBound = true;
      }
      if (s.disturbed) {
        flag += ' ⁿ';
        noisy = true;
      }
      if (s.faultsPerOp !== null && s.faultsPerOp >= 1) faulting.push(`${wl.id} / ${srv.label} ${fmt(s.faultsPerOp, 1)} per ${wl.cpuUnit.split('/')[1]}`);
      const spread = s.n > 1 ? `${fmt(s.min)}–${fmt(s.max)}` : '(1 run)';
      const lat = s.p50 !== null ? `${fmtLat(s.p50)} / ${fmtLat(s.p99)} / ${fmtLat(s.p999)}` : '—';
      const cpu = s.cpuPerOpUs !== null ? `${fmt(s.cpuPerOpUs)} ${wl.cpuUnit}` : '—';
      const util = s.serverUtil !== null ? `${fmt(s.serverUtil * 100, 0)}%` : '—';
      const r = ratiosOf(row, s);
      const b = r.toBase || {};
      lines.push(`| ${wl.label} | ${srv.label} | ${fmt(s.value)} ${wl.unit}${flag} | ${spread} | ${lat} | ${cpu} | ${util} | ` +
        `${fmtRatio(b.value)} | ${fmtRatio(b.cpuPerOp)} | ${fmtRatio(b.p99)} | ${fmtRatio(r.toNet && r.toNet.value)} |`);
    }
    for (const srv of row.servers) {
      const cell = row.cells[srv.id];
      for (const e of new Set(cell.errors)) notes.push(`${wl.label} / ${srv.label}: ${e}`);
      if (cell.summary && cell.summary.problems.length) {
        notes.push(`⚠ ${wl.label} / ${srv.label}: ${[...new Set(cell.summary.problems)].join('; ')}`);
      }
    }
  }
  if (faulting.length) notes.push(`minor page faults of the server (median; a server touching fresh memory pays for it in the kernel): ${faulting.join('; ')}.`);
  if (noisy) notes.push(`ⁿ in some of the runs behind that figure, other processes on the machine used more than ${NOISE_CORES} of a core (each such run was retried once; the less disturbed attempt was kept).`);
  if (genBound) notes.push('ᴳ the load generator was over 90% busy on its core: that server may be faster than measured (its throughput ratio is a lower bound; its CPU/op ratio still holds).');
  if (results.http) notes.push('HTTP: the "× C" columns are relative to node:http for that workload (there is no C HTTP server).');
  return { table: lines.join('\n'), notes };
}

// -------------------------------------------------------------- targets

const LIB = [
  ['asyncore-select', 'select'],
  ['asyncore-poll', 'poll'],
  ['asyncore-epoll', 'epoll'],
  ['asyncore-async', 'loopAsync'],
];
const METRICS = {
  value: { what: 'throughput', higher: true },
  cpuPerOpUs: { what: 'server CPU/op', higher: false },
  p99: { what: 'p99', higher: false },
};

/** The issue #15 targets: [workload, server, base, metric, bound, label]. */
function targetList() {
  const T = [];
  for (const [srv, name] of LIB) {
    T.push(['stream', srv, C_BASE, 'value', 0.97, `stream: ${name} ≥ 0.97× C`]);
    T.push(['stream', srv, 'python', 'value', 1.0, `stream: ${name} ahead of CPython asyncore`]);
  }
  for (const wl of ['pp100', 'pp1000']) {
    const n = wl === 'pp100' ? '×100' : '×1000';
    for (const [srv, name] of LIB) {
      const bound = srv === 'asyncore-async' ? 1.12 : 1.08;
      T.push([wl, srv, C_BASE, 'cpuPerOpUs', bound, `ping-pong ${n}: ${name} server CPU/rt ≤ ${bound}× C`]);
    }
    for (const [srv, name] of LIB) T.push([wl, srv, 'bun', 'value', 1.0, `ping-pong ${n}: ${name} ahead of Bun`]);
  }
  for (const [srv, name] of LIB) T.push(['pp100', srv, C_BASE, 'p99', 1.3, `ping-pong ×100: ${name} p99 ≤ 1.3× C`]);
  for (const [srv, name] of LIB) T.push(['churn', srv, C_BASE, 'value', 1.0, `churn: ${name} ≥ 1.0× C`]);
  for (const wl of ['pp1', 'pp100', 'pp1000', 'stream', 'churn']) {
    T.push([wl, 'asyncore-async', 'asyncore-epoll', 'value', 0.9, `${wl}: loopAsync within 10% of loop() (epoll)`]);
  }
  return T;
}

function evaluateTargets(results) {
  const sum = (wl, srv) => {
    const r = results[wl];
    const c = r && r.cells[srv];
    return c && c.summary ? c.summary : null;
  };
  const genBound = (s) => !!(s && s.genUtil !== null && s.genUtil > 0.9);
  const rows = [];
  for (const [wl, srv, base, metric, bound, label] of targetList()) {
    const a = sum(wl, srv);
    const b = sum(wl, base);
    if (!a || !b || !a[metric] || !b[metric]) continue;
    const r = a[metric] / b[metric];
    const { higher } = METRICS[metric];
    const met = higher ? r >= bound : r <= bound;
    // capacity estimate for throughput targets: the inverse ratio of the server CPU per operation
    const cpuRatio = metric === 'value' && a.cpuPerOpUs && b.cpuPerOpUs ? b.cpuPerOpUs / a.cpuPerOpUs : null;
    let status = met ? 'met' : 'NOT met';
    if (a.disturbed || b.disturbed) status = `inconclusive, ${status.toLowerCase()} (disturbed runs)`;
    if (metric === 'value') {
      const caveats = [];
      if (genBound(b)) caveats.push(`${base} was generator-bound`);
      if (genBound(a)) caveats.push(`${srv} was generator-bound`);
      if (caveats.length) status += ` (${caveats.join(', ')}; see CPU/op)`;
    }
    rows.push({ label, workload: wl, server: srv, base, metric, bound, higherIsBetter: higher, ratio: r, cpuRatio, met, disturbed: !!(a.disturbed || b.disturbed), status });
  }
  return rows;
}

function targetsTable(rows) {
  if (!rows.length) return '';
  const lines = ['| target | measured ratio | capacity ratio (inverse CPU/op) | status |', '|---|--:|--:|---|'];
  for (const r of rows) lines.push(`| ${r.label} | ${r.ratio.toFixed(2)}× ${METRICS[r.metric].what} | ${r.cpuRatio === null ? '—' : `${r.cpuRatio.toFixed(2)}×`} | ${r.status} |`);
  return lines.join('\n');
}

// ------------------------------------------------------------------ SVG

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PALETTE = {
  'asyncore-select': '#9ecae1', 'asyncore-poll': '#4292c6', 'asyncore-epoll': '#08519c', 'asyncore-async': '#6a51a3',
  net: '#41ab5d', 'c-epoll': '#636363', python: '#fd8d3c', 'python-select': '#fdae6b', bun: '#d4a017', deno: '#e7298a',
  'http-asyncore': '#08519c', 'http-node': '#41ab5d',
};

const PANELS = [
  { key: 'value', lo: 'min', hi: 'max', title: 'throughput', better: 'higher is better', fmt: (s, wl) => `${fmt(s.value)} ${wl.unit}` },
  { key: 'cpuPerOpUs', lo: 'cpuMin', hi: 'cpuMax', title: 'server CPU per operation (stream: per MB)', better: 'lower is better', fmt: (s, wl) => `${fmt(s.cpuPerOpUs)} ${wl.cpuUnit}` },
  { key: 'p99', lo: 'p99Min', hi: 'p99Max', title: 'p99 latency (stream: per 64 KiB write)', better: 'lower is better', fmt: (s) => `p99 ${fmtLat(s.p99)}` },
];

/** One panel of grouped bars: per workload, each server's median relative to the base, min–max whiskers. */
function panel(out, results, ctx, p, y0, width) {
  const groups = [];
  for (const wl of ctx.workloads) {
    const row = results[wl.id];
    if (!row) continue;
    const base = baseOf(row);
    if (!base || !base.s[p.key]) continue;
    const bv = base.s[p.key];
    const bars = [];
    for (const srv of row.servers) {
      const s = row.cells[srv.id].summary;
      if (!s || !s[p.key]) continue;
      bars.push({ srv, s, r: s[p.key] / bv, lo: s[p.lo] !== null ? s[p.lo] / bv : null, hi: s[p.hi] !== null ? s[p.hi] / bv : null });
    }
    if (bars.length) groups.push({ wl, bars });
  }
  const barW = 20;
  const gap = 18;
  const left = 56;
  const plotH = 220;
  const top = y0 + 34;
  const groupW = (g) => Math.max(g.bars.length * barW, 96);
  out.push(`<text x="${left}" y="${y0 + 14}" font-size="13" font-weight="bold">${esc(p.title)} ÷ C epoll — ${esc(p.better)}</text>`);
  if (!groups.length) {
    out.push(`<text x="${left}" y="${top + 20}" fill="#777">no figures</text>`);
    return top + 40;
  }
  const maxR = Math.max(1.2, ...groups.flatMap((g) => g.bars.map((b) => Math.max(b.hi || 0, b.r))));
  const step = maxR > 8 ? 2 : maxR > 4 ? 1 : maxR > 2 ? 0.5 : 0.25;
  const yMax = Math.ceil((maxR * 1.08) / step) * step;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(`<line x1="${left}" x2="${width - 10}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${v.toFixed(step < 0.5 ? 2 : 1)}×</text>`);
  }
  out.push(`<line x1="${left}" x2="${width - 10}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#636363" stroke-dasharray="5,4"/>`);
  let x = left + gap;
  for (const g of groups) {
    const off = (groupW(g) - g.bars.length * barW) / 2;
    g.bars.forEach((b, i) => {
      const bx = x + off + i * barW;
      const color = PALETTE[b.srv.id] || '#999';
      const tip = `${b.srv.label}, ${g.wl.label}: ${p.fmt(b.s, g.wl)} (${b.r.toFixed(2)}×)`;
      out.push(`<g><title>${esc(tip)}</title><rect x="${bx + 1}" y="${y(b.r).toFixed(1)}" width="${barW - 2}" height="${(y(0) - y(b.r)).toFixed(1)}" fill="${color}"/></g>`);
      if (b.s.n > 1 && b.lo !== null && b.hi !== null) {
        const cx = bx + barW / 2;
        out.push(`<line x1="${cx}" x2="${cx}" y1="${y(b.hi).toFixed(1)}" y2="${y(b.lo).toFixed(1)}" stroke="#222"/>`);
        out.push(`<line x1="${cx - 3}" x2="${cx + 3}" y1="${y(b.hi).toFixed(1)}" y2="${y(b.hi).toFixed(1)}" stroke="#222"/>`);
        out.push(`<line x1="${cx - 3}" x2="${cx + 3}" y1="${y(b.lo).toFixed(1)}" y2="${y(b.lo).toFixed(1)}" stroke="#222"/>`);
      }
      const ty = Math.min(y(b.r), b.hi !== null ? y(b.hi) : y(b.r)) - 4;
      const mark = b.s.disturbed ? '*' : '';
      out.push(`<text x="${bx + barW / 2}" y="${ty.toFixed(1)}" text-anchor="middle" font-size="8" fill="#333">${b.r >= 10 ? b.r.toFixed(0) : b.r.toFixed(2)}${mark}</text>`);
    });
    const cx = x + groupW(g) / 2;
    g.wl.chart.forEach((t, k) => out.push(`<text x="${cx}" y="${top + plotH + 16 + 14 * k}" text-anchor="middle">${esc(t)}</text>`));
    x += groupW(g) + gap;
  }
  out.push(`<line x1="${left}" x2="${width - 10}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  return top + plotH + 44;
}

/** Three panels (throughput, server CPU per op, p99), each relative to the C server, under one legend. */
function buildSvg(results, ctx, title) {
  const seen = new Map();
  let groupsW = 0;
  for (const wl of ctx.workloads) {
    const row = results[wl.id];
    if (!row) continue;
    const n = row.servers.filter((srv) => row.cells[srv.id].summary).length;
    for (const srv of row.servers) if (row.cells[srv.id].summary) seen.set(srv.id, srv);
    if (n) groupsW += Math.max(n * 20, 96) + 18;
  }
  const legend = [...seen.values()];
  const left = 56;
  const width = Math.max(760, left + 38 + groupsW);
  const perRow = Math.max(1, Math.floor((width - left - 10) / 190));
  const out = [];
  let y = 70 + Math.ceil(legend.length / perRow) * 18;
  const body = [];
  for (const p of PANELS) y = panel(body, results, ctx, p, y, width);
  const anyDisturbed = Object.values(results).some((row) => Object.values(row.cells).some((c) => c.summary && c.summary.disturbed));
  const height = y + (anyDisturbed ? 40 : 26);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${left}" y="36" fill="#555">medians of the runs over the C epoll server's of the same run (dashed line; HTTP: over node:http);</text>`);
  out.push(`<text x="${left}" y="50" fill="#555">whiskers: min–max of the runs; bar tooltips hold the absolute figures</text>`);
  legend.forEach((srv, i) => {
    const lx = left + (i % perRow) * 190;
    const ly = 70 + Math.floor(i / perRow) * 18;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${PALETTE[srv.id] || '#999'}"/>`);
    out.push(`<text x="${lx + 17}" y="${ly + 1}">${esc(srv.label)}</text>`);
  });
  out.push(...body);
  if (anyDisturbed) out.push(`<text x="${left}" y="${height - 26}" fill="#777" font-size="10">* other processes on the machine used more than ${NOISE_CORES} of a core during some of these runs</text>`);
  out.push(`<text x="${left}" y="${height - 12}" fill="#777" font-size="10">${esc(ctx.footer)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

module.exports = {
  ANCHOR, C_BASE, HTTP_ANCHOR, NOISE_CORES,
  median, summarize, ratiosOf, fmt, fmtLat,
  buildTables, evaluateTargets, targetsTable, buildSvg,
};
