/**
 * The heatmap page for people: one self-contained HTML document (inline CSS and JS under
 * a CSP nonce, no CDN). It carries no data: the script fetches /heatmap/:symbol with the
 * API key the user types in, kept in sessionStorage (never in the URL), and redraws every
 * few seconds.
 */
export function renderHeatmapPage(opts: { symbol: string; nonce: string }): string {
  // The symbol passed the route's [A-Z0-9] pattern, so it is safe to inline.
  const symbol = opts.symbol;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${symbol} liquidation heatmap</title>
<style nonce="${opts.nonce}">
  :root { --long: #2f7ed8; --short: #e4572e; --bg: #0f1419; --fg: #d8dee9; --muted: #7b8794; --major: rgba(255, 214, 10, 0.18); }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
  header { padding: 10px 16px; display: flex; flex-wrap: wrap; gap: 12px; align-items: center; border-bottom: 1px solid #222b35; }
  h1 { font-size: 16px; margin: 0 12px 0 0; }
  label { color: var(--muted); }
  input, select, button { background: #1b232c; color: var(--fg); border: 1px solid #333f4b; border-radius: 4px; padding: 4px 6px; font: inherit; }
  #summary { padding: 8px 16px; color: var(--muted); min-height: 1.4em; }
  #summary b { color: var(--fg); font-weight: 600; }
  #error { padding: 0 16px; color: var(--short); min-height: 1.4em; }
  #ladder { padding: 4px 16px 24px; font-variant-numeric: tabular-nums; }
  .row { display: grid; grid-template-columns: 1fr 90px 1fr; align-items: center; height: 6px; }
  .row.major { background: var(--major); }
  .row.mark { border-top: 2px solid #fff; }
  .row .price { text-align: center; color: var(--muted); font-size: 10px; line-height: 6px; }
  .bar-long { justify-self: end; height: 5px; background: var(--long); }
  .bar-short { justify-self: start; height: 5px; background: var(--short); }
  .legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
  .legend .l { background: var(--long); } .legend .s { background: var(--short); } .legend .m { background: var(--major); border: 1px solid #887; }
</style>
</head>
<body>
<header>
  <h1>${symbol} liquidation heatmap</h1>
  <label>API key (read scope) <input id="key" type="password" autocomplete="off" size="24"></label>
  <button id="save">Use key</button>
  <label>Range <select id="range"><option value="">stored</option><option value="0.1">±10%</option><option value="0.05">±5%</option><option value="0.02">±2%</option></select></label>
  <label>Bin <select id="bin"><option value="">stored</option><option value="25" selected>25 bps</option><option value="50">50 bps</option><option value="100">100 bps</option></select></label>
  <span class="legend"><span class="l"></span>longs liquidated <span class="s"></span>shorts liquidated <span class="m"></span>major cluster</span>
</header>
<div id="summary">Enter a key to load the map.</div>
<div id="error"></div>
<div id="ladder" data-testid="ladder"></div>
<script nonce="${opts.nonce}">
(() => {
  const SYMBOL = ${JSON.stringify(symbol)};
  const STORE_KEY = 'liqgate.apiKey';
  const $ = (id) => document.getElementById(id);
  const keyInput = $('key');
  keyInput.value = sessionStorage.getItem(STORE_KEY) || '';
  const fmtUsd = (x) => x >= 1e9 ? (x / 1e9).toFixed(2) + 'B' : x >= 1e6 ? (x / 1e6).toFixed(1) + 'M' : x >= 1e3 ? (x / 1e3).toFixed(0) + 'k' : x.toFixed(0);
  const fmtPx = (p) => p >= 1000 ? p.toFixed(0) : p >= 1 ? p.toFixed(2) : p.toPrecision(4);
  let timer = null;

  function draw(h) {
    $('summary').textContent = 'mark ' + fmtPx(h.markPrice) + ' · as of ' + new Date(h.asOf).toLocaleTimeString() +
      ' (' + Math.round(h.ageMs / 1000) + ' s ago' + (h.stale ? ', STALE' : '') + ') · v' + h.version + ' · ' + h.source + ' · ' + h.venues.join(', ') +
      ' · risk ' + h.riskScore.toFixed(0) + ' · crowding ' + h.crowding.side + ' ' + h.crowding.strength.toFixed(2) +
      ' · longs ' + fmtUsd(h.totalLongUsd) + ' / shorts ' + fmtUsd(h.totalShortUsd);
    const majors = h.clusters.filter((c) => c.major);
    let max = 0;
    for (const b of h.ladder) max = Math.max(max, b.longUsd, b.shortUsd);
    // Elements built through the DOM (widths via CSSOM): the CSP allows no inline style attributes.
    const frag = document.createDocumentFragment();
    const el = (tag, cls) => { const e = document.createElement(tag); if (cls) e.className = cls; return e; };
    let markDrawn = false;
    const bins = h.ladder.slice().reverse(); // highest price on top
    const labelEvery = Math.max(1, Math.round(bins.length / 40));
    bins.forEach((b, i) => {
      const row = el('div', 'row');
      if (majors.some((c) => b.price >= c.priceLow && b.price <= c.priceHigh)) row.classList.add('major');
      if (!markDrawn && b.price < h.markPrice) { row.classList.add('mark'); markDrawn = true; }
      row.title = fmtPx(b.price) + ': longs ' + fmtUsd(b.longUsd) + ', shorts ' + fmtUsd(b.shortUsd);
      const l = el('div', 'bar-long');
      l.style.width = (max > 0 ? (100 * b.longUsd) / max : 0).toFixed(1) + '%';
      const px = el('div', 'price');
      px.textContent = i % labelEvery === 0 ? fmtPx(b.price) : '';
      const sh = el('div', 'bar-short');
      sh.style.width = (max > 0 ? (100 * b.shortUsd) / max : 0).toFixed(1) + '%';
      row.append(l, px, sh);
      frag.append(row);
    });
    $('ladder').replaceChildren(frag);
  }

  async function load() {
    const key = sessionStorage.getItem(STORE_KEY);
    if (!key) return;
    const qs = new URLSearchParams();
    if ($('range').value) qs.set('rangePct', $('range').value);
    if ($('bin').value) qs.set('binBps', $('bin').value);
    try {
      const res = await fetch('/heatmap/' + SYMBOL + (qs.toString() ? '?' + qs : ''), { headers: { authorization: 'Bearer ' + key }, cache: 'no-cache' });
      const body = await res.json();
      if (!res.ok) { $('error').textContent = res.status + ' ' + body.error + ': ' + body.message; return; }
      $('error').textContent = '';
      draw(body);
    } catch (err) {
      $('error').textContent = 'fetch failed: ' + err.message;
    }
  }

  function restart() {
    if (timer) clearInterval(timer);
    load();
    timer = setInterval(load, 3000);
  }
  const useKey = () => { sessionStorage.setItem(STORE_KEY, keyInput.value.trim()); restart(); };
  $('save').addEventListener('click', useKey);
  keyInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') useKey(); });
  $('range').addEventListener('change', restart);
  $('bin').addEventListener('change', restart);
  restart();
})();
</script>
</body>
</html>
`;
}
