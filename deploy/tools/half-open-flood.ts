// Opens N connections to a gate that never send a byte, then retries one POST /pretrade-check
// (2 s client timeout per try) until it is answered, and reports how many of the N the
// server closed by itself. Usage: npx tsx deploy/tools/half-open-flood.ts PORT N API_KEY
// (run it against a test instance only; ulimit -n must exceed N).
import net from 'node:net';

const [port, n, key] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? ''];
const sockets: net.Socket[] = [];
let connected = 0;
let closed = 0;
for (let i = 0; i < n; i++) {
  const s = net.connect(port, '127.0.0.1');
  s.resume(); // read, so the server's close is seen
  s.on('error', () => {});
  s.on('connect', () => connected++);
  s.on('close', () => closed++);
  sockets.push(s);
}
while (connected + closed < n) await new Promise((r) => setTimeout(r, 50));
console.log(`opened ${n}, connected ${connected}, closed so far ${closed}`);
const t0 = Date.now();
let ok = false;
let tries = 0;
while (!ok && Date.now() - t0 < 30_000) {
  tries++;
  try {
    const r = await fetch(`http://127.0.0.1:${port}/pretrade-check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', notional: 10_000, orderType: 'market' }),
      signal: AbortSignal.timeout(2_000),
    });
    ok = r.status === 200;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}
console.log(`well-behaved client answered=${ok} after ${Date.now() - t0} ms, ${tries} tries`);
while (closed < n && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
console.log(`server closed ${closed}/${n} of them within ${Date.now() - t0} ms of the first try`);
for (const s of sockets) s.destroy();
