// What one read of the dashboard's live panels (`dashboard/panels`) costs the server, next
// to one `expenses/list` and one `expenses/create`: server CPU per request (utime + stime
// of the server process from /proc, in 10 ms ticks, over many requests one after the
// other). The web client reads its panels again once per burst of events (ARCHITECTURE,
// "Islands"), so this is the server's cost per open dashboard per change.
//
//   node scripts/panel-cost.mjs <base-url> <server-pid> [rows] [requests]
//
// `scripts/panel-cost.sh` starts the release server on a fresh SQLite database and runs
// this against it.
import { readFileSync } from 'node:fs';

const [base, pid, rowsArg, requestsArg] = process.argv.slice(2);
const rows = Number(rowsArg ?? 60);
const requests = Number(requestsArg ?? 400);
const ticks = () => {
  // Fields 14 and 15 (utime, stime) after the command name, which ends with ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};

async function call(path, token, form) {
  const res = await fetch(`${base}/api/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return text;
}

const email = `cost-${Date.now()}@example.com`;
const reg = await fetch(`${base}/api/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ email, display_name: 'Cost', password: 'correct horse battery staple' }),
});
if (!reg.ok) throw new Error(`register: ${reg.status} ${await reg.text()}`);
const token = reg.headers.get('x-session-token');
const ws = JSON.parse(await call('workspaces/list', token, {}))[0].id;
const today = new Date().toISOString().slice(0, 10);
for (let i = 0; i < rows; i++) {
  await call('expenses/create', token, {
    workspace_id: ws, amount: `${1 + (i % 40)}.50`, currency: 'EUR',
    category: ['Food', 'Travel', 'Office'][i % 3], description: `Row ${i}`, date: today,
  });
}
await call('budgets/set', token, { workspace_id: ws, category: 'Food', currency: 'EUR', limit: '500' });
await call('goals/create', token, { workspace_id: ws, name: 'Bike', target: '900', currency: 'EUR' });

async function measure(label, n, run) {
  await run(0); // warm
  const before = ticks();
  const started = performance.now();
  for (let i = 1; i <= n; i++) await run(i);
  const cpuMs = (ticks() - before) * 10;
  const wallMs = performance.now() - started;
  console.log(`${label.padEnd(34)} ${n} requests: server CPU ${(1000 * cpuMs / n).toFixed(0)} µs each, wall ${(wallMs / n).toFixed(2)} ms each`);
}

let bytes = 0;
await measure(`dashboard/panels (${rows} rows)`, requests, async () => {
  bytes = (await call('dashboard/panels', token, { workspace_id: ws, query: '' })).length;
});
console.log(`  answer: ${bytes} bytes of JSON (uncompressed)`);
await measure(`expenses/list (${rows} rows)`, requests, () => call('expenses/list', token, { workspace_id: ws }));
await measure('expenses/create', Math.min(requests, 200), (i) =>
  call('expenses/create', token, {
    workspace_id: ws, amount: '2', currency: 'EUR', category: 'Food', description: `More ${i}`, date: today,
  }));
