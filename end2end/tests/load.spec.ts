import { expect, test, type CDPSession } from '@playwright/test';
import { hydrated, newUserPage } from './helpers';

/**
 * Bytes over the wire (compressed, as Chromium received them) of what a signed-in
 * user's dashboard loads before it is interactive: the page and the client's files.
 * The budget is what this build measured, with a little room: a change that makes the
 * first load heavier fails here. DESIGN §6 aims at 150 KiB; see ARCHITECTURE.md.
 */
// Issue 14 (periods, filters, paging, live filter matching, time zones) raised the
// budget to 442 KiB for a day; it is back at 440 (449,159 B on 2026-12-03) after the
// client stopped URL-encoding views and cloning events, and the zone became a cookie.
// Issue 15 (2026-12-03): 450,167 B with notification choices, accounts, undo and quick
// entry; their page script (`/enhance.js`, about 2 KB) loads after hydration.
// 441 KiB since 2026-12-04, for noise, not for code: the client's code did not change
// (every change since was server-only), yet its brotli file went from 435,321 to 435,747
// bytes, because the same code compresses a few hundred bytes larger or smaller as line
// numbers and symbol order shift (node's brotli at quality 11 on both builds' optimised
// modules: 434,831 before, 434,549 after). A guard whose margin is below that noise
// fails at random; this one has about 800 B.
// 382 KiB since the forms left the WASM (2026-12-04, issue 10): one form enhancer for
// every form instead of an `ActionForm` per server function (390,182 B measured here);
// 296 KiB the same day once views were no longer erased with `.into_any()` (301,695 B),
// 291 KiB without `<Show>`'s boxes (`pages::when::show`; 296,562 B), 282 KiB once event
// frames were read in one pass (`protocol::parse_frame`; 287,248 B).
// 267 KiB since the panels' forms became server-rendered slots of the island
// (2026-12-05, `pages::slot`; 271,427 B); 260 KiB once the import panel called its
// server function without a `ServerAction` (265,085 B); 253 KiB once its code became a
// split module loaded when the panel is first opened (256,948–257,666 B in four runs:
// the split build's bytes vary more from run to run, so the room is about 1.4 KB).
// 243 KiB since `AppError` and `ServerFrame` are read without serde's `Content` and the
// list under the notification bell became a split module too (2026-12-06; 246,764 B,
// room about 2 KB); 241 KiB once wasm-opt runs `-Oz --converge` (244,379 B); 235 KiB
// once the charts were built as HTML text instead of views (238,091 B).
// 195 KiB since the browser reads JSON with the app's own reader instead of serde's,
// the islands take their data from the page instead of Leptos' props, lists keep their
// order by insertion and the event log is HTML text (2026-12-06; 197,382 B, room 2.3 KB).
// 150 KiB, the target, since the panels are the server's HTML, read again when the
// workspace changes (`pages::live_part`): no list or row code in the WASM (2026-12-06;
// 152,122 B); 147,276 B once the client read only the payloads it uses
// (`catalog::read_in_browser`; room 6.3 KB).
const FIRST_LOAD_BUDGET_KIB = 150;

/** Records, per request, the URL and the bytes that came over the network. */
function recordNetwork(cdp: CDPSession) {
  const urls = new Map<string, string>();
  const cached = new Set<string>();
  const bytes = new Map<string, number>();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.requestServedFromCache', (e) => cached.add(e.requestId));
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.fromDiskCache || e.response.fromMemoryCache) cached.add(e.requestId);
  });
  cdp.on('Network.loadingFinished', (e) => bytes.set(e.requestId, e.encodedDataLength));
  return () =>
    [...bytes.entries()].map(([id, n]) => ({
      url: new URL(urls.get(id) ?? 'about:blank').pathname,
      bytes: n,
      cached: cached.has(id),
    }));
}

test('the dashboard loads within its byte budget, and a reload fetches no JS, WASM or CSS', async ({ browser }) => {
  test.setTimeout(120_000);
  const { context } = await newUserPage(browser, 'Loader');
  const pages = context.pages();
  const dashboard = new URL(pages[0].url()).pathname;
  // A new context with the same session: an empty cache, as on a first visit.
  const cold = await browser.newContext({ storageState: await context.storageState() });
  const page = await cold.newPage();
  const cdp = await cold.newCDPSession(page);
  await cdp.send('Network.enable');
  const seen = recordNetwork(cdp);

  await page.goto(dashboard);
  await hydrated(page);
  const first = seen().filter((r) => r.url === dashboard || r.url.startsWith('/pkg/'));
  const total = first.reduce((sum, r) => sum + r.bytes, 0);
  console.log('first load, bytes over the wire:');
  for (const r of first) console.log(`  ${r.url}: ${r.bytes}`);
  console.log(`  total: ${total} (${Math.ceil(total / 1024)} KiB; budget ${FIRST_LOAD_BUDGET_KIB} KiB)`);
  expect(first.some((r) => r.url.endsWith('.wasm'))).toBe(true);
  expect(first.some((r) => r.url.endsWith('.js'))).toBe(true);
  expect(first.some((r) => r.url.endsWith('.css'))).toBe(true);
  expect(total).toBeLessThanOrEqual(FIRST_LOAD_BUDGET_KIB * 1024);
  // What the page loads once it is interactive (quick entry, undo: `/enhance.js`) is
  // not part of the first load, and says so here.
  await page.waitForFunction(() => (window as any).__liveledgerEnhanced === true);
  const later = seen().filter((r) => r.url === '/enhance.js');
  expect(later.length).toBe(1);
  console.log(`  after it is interactive: /enhance.js ${later[0].bytes}`);

  const before = seen().length;
  await page.reload();
  await hydrated(page);
  const again = seen()
    .slice(before)
    .filter((r) => r.url.startsWith('/pkg/'));
  console.log('reload, /pkg files:', again.map((r) => `${r.url} ${r.cached ? 'cache' : r.bytes + ' B'}`).join(', '));
  expect(again.length).toBeGreaterThan(0);
  for (const r of again) {
    expect(r.cached, `${r.url} came from the cache`).toBe(true);
    expect(r.bytes, `${r.url} bytes over the network on reload`).toBe(0);
  }

  // Time until the dashboard responds to input, on a throttled mobile link (reported,
  // not asserted: timings belong to measurements, not to pass/fail).
  const slow = await browser.newContext({ storageState: await context.storageState() });
  const phone = await slow.newPage();
  const throttle = await slow.newCDPSession(phone);
  await throttle.send('Network.enable');
  await throttle.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
  let start = Date.now();
  await phone.goto(dashboard);
  await hydrated(phone);
  const coldMs = Date.now() - start;
  start = Date.now();
  await phone.reload();
  await hydrated(phone);
  const warmMs = Date.now() - start;
  console.log(`throttled 1.6 Mbit/s, 150 ms RTT: interactive after ${coldMs} ms (first visit), ${warmMs} ms (reload, from cache)`);
  await slow.close();
  await cold.close();
  await context.close();
});
