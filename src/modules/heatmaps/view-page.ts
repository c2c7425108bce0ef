/**
 * The heatmap page for people, drawn the way traders know liquidation heatmaps: time on x,
 * price on y, colour = liquidation notional per price level (from GET
 * /heatmap/:symbol/history, one call), the price path over it, the mark, the major zones
 * and the no-trade buffer the gate applies now, the map's confidence and model health as
 * the gate reads them (a badge, marked degraded when they tighten the gate), and the realized liquidations the venues
 * reported, as dots where and when they happened (blue: a long liquidated, orange: a
 * short; area by notional). One self-contained HTML document (inline
 * CSS and JS under a CSP nonce, no CDN, no data inside): the script fetches with the API
 * key the user types in, kept in sessionStorage (never in the URL), and redraws every 5 s.
 * The colour scale (README, "The heatmap": the page) is linear in the cell's share
 * of the largest cell, through the stops below; the browser test checks it from outside.
 */
export const COLOUR_STOPS: readonly (readonly [number, readonly [number, number, number]])[] = [
  [0, [15, 20, 25]],
  [0.25, [59, 82, 139]],
  [0.5, [33, 145, 140]],
  [0.75, [94, 201, 98]],
  [1, [253, 231, 37]],
];

/** Realized liquidation dots: the liquidated position's side, as the major zones are coloured. */
export const LIQUIDATION_COLOURS = { long: [47, 126, 216], short: [228, 87, 46] } as const;

export function renderHeatmapPage(opts: { symbol: string; symbols: readonly string[]; nonce: string }): string {
  // Symbols passed the route's [A-Z0-9] pattern, so they are safe to inline.
  const { symbol, nonce } = opts;
  const options = opts.symbols.map((s) => `<option value="${s}"${s === symbol ? ' selected' : ''}>${s}</option>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${symbol} liquidation heatmap</title>
<style nonce="${nonce}">
  :root { --bg: #0f1419; --fg: #d8dee9; --muted: #7b8794; --warn: #e4572e; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
  header { padding: 8px 12px; display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; border-bottom: 1px solid #222b35; }
  h1 { font-size: 15px; margin: 0 8px 0 0; }
  label { color: var(--muted); }
  input, select, button { background: #1b232c; color: var(--fg); border: 1px solid #333f4b; border-radius: 4px; padding: 3px 6px; font: inherit; }
  #summary { padding: 6px 12px; color: var(--muted); min-height: 1.4em; }
  #summary b { color: var(--fg); font-weight: 600; }
  #summary .stale { color: var(--warn); font-weight: 700; }
  #trust { margin-left: 8px; padding: 0 6px; border: 1px solid #5ec962; border-radius: 9px; color: #5ec962; white-space: nowrap; }
  #trust.degraded { border-color: var(--warn); color: var(--warn); font-weight: 600; }
  #error { padding: 0 12px; color: var(--warn); min-height: 1.4em; }
  #wrap { position: relative; padding: 0 12px; }
  #chart { display: block; width: 100%; height: 70vh; min-height: 320px; }
  #chart.stale { opacity: 0.45; filter: grayscale(0.7); }
  #tip { position: absolute; pointer-events: none; background: #1b232c; border: 1px solid #333f4b; padding: 3px 6px; border-radius: 4px; display: none; white-space: nowrap; }
  #legend { padding: 6px 12px 16px; display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; color: var(--muted); }
  #scale { width: 160px; height: 10px; }
  #dot-long { color: rgb(${LIQUIDATION_COLOURS.long.join(',')}); }
  #dot-short { color: rgb(${LIQUIDATION_COLOURS.short.join(',')}); }
  @media (max-width: 600px) { header { font-size: 12px; } #chart { height: 60vh; } #legend { font-size: 11px; } }
</style>
</head>
<body>
<header>
  <h1>Liquidation heatmap</h1>
  <label>Symbol <select id="symbol">${options}</select></label>
  <label>Time <select id="span"><option value="3600000">1 h</option><option value="21600000" selected>6 h</option><option value="86400000">24 h</option></select></label>
  <label>Price <select id="range"><option value="0.02">±2%</option><option value="0.05" selected>±5%</option><option value="0.1">±10%</option></select></label>
  <label>API key (read) <input id="key" type="password" autocomplete="off" size="18"></label>
  <button id="save">Use key</button>
</header>
<div id="summary">Enter a key to load the map.</div>
<div id="error"></div>
<div id="wrap"><canvas id="chart" data-testid="heatmap"></canvas><div id="tip"></div></div>
<div id="legend">
  <span>0 <canvas id="scale" width="160" height="10"></canvas> <span id="scale-max">–</span> USD per cell</span>
  <span>— price path (mark per column)</span><span>- - mark now</span>
  <span>▮ major zone now (the gate's) with its no-trade buffer (the wider of buy / sell, as the gate widens it for confidence and cascades)</span>
  <span><b id="dot-long">●</b> <b id="dot-short">●</b> realized liquidation (long / short liquidated; area by USD)</span>
  <span>times UTC</span>
</div>
<script nonce="${nonce}">
(() => {
  const STOPS = ${JSON.stringify(COLOUR_STOPS)};
  const LIQ = ${JSON.stringify(LIQUIDATION_COLOURS)};
  const STORE_KEY = 'liqgate.apiKey';
  const $ = (id) => document.getElementById(id);
  const canvas = $('chart');
  const ctx = canvas.getContext('2d');
  const keyInput = $('key');
  keyInput.value = sessionStorage.getItem(STORE_KEY) || '';
  const fmtUsd = (x) => x >= 1e9 ? (x / 1e9).toFixed(2) + 'B' : x >= 1e6 ? (x / 1e6).toFixed(1) + 'M' : x >= 1e3 ? (x / 1e3).toFixed(0) + 'k' : x.toFixed(0);
  const fmtPx = (p) => p >= 1000 ? p.toFixed(0) : p >= 1 ? p.toFixed(2) : p.toPrecision(4);
  const hhmm = (iso) => iso.slice(11, 16);
  const PAD = { left: 64, right: 8, top: 8, bottom: 22 };
  let data = null;
  let timer = null;

  /** Linear in the share of the largest cell, through the documented stops. */
  function colour(share) {
    const t = Math.max(0, Math.min(1, share));
    for (let i = 1; i < STOPS.length; i++) {
      const [t1, c1] = STOPS[i];
      const [t0, c0] = STOPS[i - 1];
      if (t <= t1) {
        const f = (t - t0) / (t1 - t0);
        return c0.map((v, k) => Math.round(v + (c1[k] - v) * f));
      }
    }
    return STOPS[STOPS.length - 1][1];
  }

  function layout() {
    const w = canvas.width - PAD.left - PAD.right;
    const h = canvas.height - PAD.top - PAD.bottom;
    const cols = data.columns.length;
    return {
      x: (col) => PAD.left + (col * w) / cols,
      colW: w / cols,
      y: (price) => PAD.top + h - ((price - data.priceLow) / (data.priceHigh - data.priceLow)) * h,
      rowH: h / data.rows,
      w, h,
    };
  }

  /** Canvas pixel at the centre of a cell (also what the tooltip and the browser test use). */
  function cellCenter(col, row) {
    const L = layout();
    return { x: Math.floor(L.x(col) + L.colW / 2), y: Math.floor(PAD.top + L.h - (row + 0.5) * L.rowH) };
  }

  /** Where a realized liquidation is marked (canvas pixels) and its dot radius; null outside the picture. */
  function liquidationMark(i) {
    const e = data.liquidations[i];
    if (!e) return null;
    const L = layout();
    const from = Date.parse(data.from);
    const to = Date.parse(data.to);
    const t = Date.parse(e.at);
    if (t < from || t > to || e.price < data.priceLow || e.price > data.priceHigh) return null;
    const dpr = window.devicePixelRatio || 1;
    const largest = Math.max(...data.liquidations.map((x) => x.usd));
    return {
      x: Math.round(PAD.left + ((t - from) / (to - from)) * L.w),
      y: Math.round(L.y(e.price)),
      r: (2.5 + 5 * Math.sqrt(e.usd / largest)) * dpr,
    };
  }

  function draw() {
    if (!data) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * dpr);
    canvas.height = Math.round(canvas.clientHeight * dpr);
    const L = layout();
    ctx.fillStyle = 'rgb(' + STOPS[0][1].join(',') + ')';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const max = data.maxCellUsd;
    const cols = data.columns.length;
    for (let c = 0; c < cols; c++) {
      const x0 = Math.floor(L.x(c));
      const x1 = Math.floor(L.x(c + 1));
      for (let r = 0; r < data.rows; r++) {
        const v = data.longUsd[c][r] + data.shortUsd[c][r];
        if (!(v > 0) || !(max > 0)) continue;
        const y1 = Math.floor(PAD.top + L.h - r * L.rowH);
        const y0 = Math.floor(PAD.top + L.h - (r + 1) * L.rowH);
        ctx.fillStyle = 'rgb(' + colour(v / max).join(',') + ')';
        ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      }
      if (data.columns[c].stale) {
        ctx.fillStyle = 'rgba(120, 120, 120, 0.35)';
        ctx.fillRect(x0, PAD.top, Math.max(1, x1 - x0), L.h);
      }
    }
    // The gate's major zones and no-trade buffer, as they stand now (right edge band).
    const cur = data.current;
    if (cur) {
      const buffer = Math.max(cur.bufferBps.buy, cur.bufferBps.sell);
      const bandX = L.x(Math.max(0, cols - Math.max(3, Math.round(cols / 12))));
      for (const z of cur.clusters.filter((k) => k.major)) {
        const pad = (cur.markPrice * buffer) / 10000;
        ctx.strokeStyle = 'rgba(255, 214, 10, 0.9)';
        ctx.setLineDash([4, 3]);
        ctx.strokeRect(bandX, L.y(z.priceHigh + pad), PAD.left + L.w - bandX, L.y(z.priceLow - pad) - L.y(z.priceHigh + pad));
        ctx.setLineDash([]);
        ctx.fillStyle = z.side === 'long' ? 'rgba(47, 126, 216, 0.35)' : 'rgba(228, 87, 46, 0.35)';
        ctx.fillRect(bandX, L.y(z.priceHigh), PAD.left + L.w - bandX, L.y(z.priceLow) - L.y(z.priceHigh));
      }
      ctx.strokeStyle = '#ffffff';
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(PAD.left, L.y(cur.markPrice));
      ctx.lineTo(PAD.left + L.w, L.y(cur.markPrice));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    // The price path: the mark of each column's map.
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath();
    let started = false;
    data.columns.forEach((col, c) => {
      if (col.markPrice === null) return;
      const x = L.x(c) + L.colW / 2;
      const y = L.y(col.markPrice);
      if (started) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      started = true;
    });
    ctx.stroke();
    ctx.lineWidth = 1;
    // Realized liquidations, where and when the venues reported them.
    (data.liquidations || []).forEach((e, i) => {
      const m = liquidationMark(i);
      if (!m) return;
      ctx.beginPath();
      ctx.arc(m.x, m.y, m.r, 0, 2 * Math.PI);
      ctx.fillStyle = 'rgb(' + LIQ[e.side].join(',') + ')';
      ctx.fill();
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
      ctx.stroke();
    });
    // Axes: prices on the left, UTC times below.
    ctx.fillStyle = '#7b8794';
    ctx.font = Math.round(10 * dpr) + 'px system-ui, sans-serif';
    for (let i = 0; i <= 6; i++) {
      const p = data.priceLow + ((data.priceHigh - data.priceLow) * i) / 6;
      ctx.fillText(fmtPx(p), 4, L.y(p) + 3);
    }
    const every = Math.max(1, Math.round(cols / 6));
    for (let c = 0; c < cols; c += every) ctx.fillText(hhmm(data.columns[c].at), L.x(c), canvas.height - 6);
  }

  function summarize() {
    const cur = data.current;
    const s = $('summary');
    s.replaceChildren();
    const add = (text, cls) => { const e = document.createElement(cls ? 'span' : 'b'); if (cls) e.className = cls; e.textContent = text; s.append(e); };
    if (!cur) { s.textContent = 'No current map for this symbol.'; return; }
    add(data.symbol); s.append(' mark ' + fmtPx(cur.markPrice) + ' · as of ' + hhmm(cur.asOf) + ' UTC · risk ');
    add(cur.riskScore.toFixed(0));
    s.append(' · buffer buy ' + cur.bufferBps.buy.toFixed(0) + ' / sell ' + cur.bufferBps.sell.toFixed(0) + ' bps · ' + cur.clusters.filter((c) => c.major).length + ' major zones');
    if (cur.stale) add(' · STALE: the gate rejects new risk on this map', 'stale');
    // What the gate trusts this map with: below confidenceFullAt (or with no confidence, taken
    // as 0) it widens the buffer and tightens sizes; a model not healthy lowers the confidence.
    const conf = cur.confidence ? cur.confidence.value : null;
    const health = cur.health ? cur.health.status : 'unknown';
    const degraded = conf === null || conf < cur.confidenceFullAt || !(cur.health && cur.health.healthy);
    const trust = document.createElement('span');
    trust.id = 'trust';
    trust.className = degraded ? 'degraded' : 'ok';
    trust.textContent = 'confidence ' + (conf === null ? 'unknown' : conf.toFixed(2)) + ' · model health ' + health;
    trust.title = degraded
      ? 'Below ' + cur.confidenceFullAt + ' (or unknown, taken as 0) the gate widens the no-trade buffer and tightens size caps; the buffers shown include it'
      : 'The gate trusts this map fully (confidence at or above ' + cur.confidenceFullAt + ', model healthy)';
    s.append(trust);
    canvas.classList.toggle('stale', cur.stale);
    $('scale-max').textContent = fmtUsd(data.maxCellUsd);
  }

  async function load() {
    const key = sessionStorage.getItem(STORE_KEY);
    if (!key) return;
    const span = Number($('span').value);
    const to = new Date();
    const from = new Date(to.getTime() - span);
    const columns = Math.max(24, Math.min(288, Math.floor(canvas.clientWidth / 6)));
    const qs = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), columns: String(columns), rows: '120', rangePct: $('range').value });
    try {
      const res = await fetch('/heatmap/' + $('symbol').value + '/history?' + qs, { headers: { authorization: 'Bearer ' + key }, cache: 'no-cache' });
      const body = await res.json();
      if (!res.ok) { $('error').textContent = res.status + ' ' + body.error + ': ' + body.message; return; }
      $('error').textContent = '';
      data = body;
      window.liqgateHeatmap = { data, cellCenter, colour, liquidationMark };
      draw();
      summarize();
      canvas.dispatchEvent(new Event('drawn'));
    } catch (err) {
      $('error').textContent = 'fetch failed: ' + err.message;
    }
  }

  canvas.addEventListener('mousemove', (e) => {
    if (!data) return;
    const L = layout();
    const dpr = window.devicePixelRatio || 1;
    const px = (e.offsetX * dpr - PAD.left) / L.colW;
    const row = Math.floor((PAD.top + L.h - e.offsetY * dpr) / L.rowH);
    const col = Math.floor(px);
    const tip = $('tip');
    if (col < 0 || col >= data.columns.length || row < 0 || row >= data.rows) { tip.style.display = 'none'; return; }
    const price = data.priceLow + ((row + 0.5) * (data.priceHigh - data.priceLow)) / data.rows;
    const near = (data.liquidations || []).map((x, i) => [x, liquidationMark(i)]).find(([, m]) => m && Math.hypot(m.x - e.offsetX * dpr, m.y - e.offsetY * dpr) <= m.r + 2);
    tip.textContent = near
      ? near[0].at.slice(11, 19) + ' UTC · ' + near[0].side + ' liquidated ' + fmtUsd(near[0].usd) + ' at ' + fmtPx(near[0].price) + (near[0].venue ? ' (' + near[0].venue + ')' : '')
      : hhmm(data.columns[col].at) + ' UTC · ' + fmtPx(price) + ' · longs ' + fmtUsd(data.longUsd[col][row]) + ' / shorts ' + fmtUsd(data.shortUsd[col][row]);
    tip.style.display = 'block';
    tip.style.left = Math.min(e.offsetX + 16, canvas.clientWidth - 200) + 'px';
    tip.style.top = e.offsetY + 'px';
  });
  canvas.addEventListener('mouseleave', () => { $('tip').style.display = 'none'; });

  const scale = $('scale').getContext('2d');
  for (let i = 0; i < 160; i++) { scale.fillStyle = 'rgb(' + colour(i / 159).join(',') + ')'; scale.fillRect(i, 0, 1, 10); }

  function restart() {
    if (timer) clearInterval(timer);
    load();
    timer = setInterval(load, 5000);
  }
  const useKey = () => { sessionStorage.setItem(STORE_KEY, keyInput.value.trim()); restart(); };
  $('save').addEventListener('click', useKey);
  keyInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') useKey(); });
  for (const id of ['symbol', 'span', 'range']) $(id).addEventListener('change', restart);
  window.addEventListener('resize', draw);
  restart();
})();
</script>
</body>
</html>
`;
}
