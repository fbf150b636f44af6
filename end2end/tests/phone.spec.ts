import { expect, test, type Page } from '@playwright/test';
import { collectErrors, hydrated, team, hearExpenses, openImport } from './helpers';

// Issue 15, point 1: at a phone's size (390×844) no page scrolls sideways, what opens
// over a page (the notification panel, toasts) stays on screen, and every control is at
// least 24×24 px.
const PHONE = { width: 390, height: 844 };

/** The elements that stick out past the right edge, for the failure message. */
async function overflow(page: Page): Promise<{ scroll: number; inner: number; culprits: string[] }> {
  return page.evaluate(() => {
    const inner = window.innerWidth;
    const culprits = Array.from(document.querySelectorAll('body *'))
      .filter((e) => e.getBoundingClientRect().right > inner + 0.5 && e.getClientRects().length > 0)
      .slice(0, 8)
      .map((e) => `<${e.tagName.toLowerCase()} class="${e.className}"> right=${Math.round(e.getBoundingClientRect().right)}`);
    return { scroll: document.documentElement.scrollWidth, inner, culprits };
  });
}

async function fitsTheWidth(page: Page, what: string) {
  const o = await overflow(page);
  expect(o.scroll, `${what} scrolls sideways: ${o.culprits.join(', ')}`).toBeLessThanOrEqual(o.inner);
}

/** Buttons, fields, checkboxes and disclosure toggles smaller than 24×24 px. */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('button, select, input:not([type=hidden]), summary'))
      .map((e) => ({ e, r: e.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && r.height > 0 && (r.width < 24 || r.height < 24))
      .map(({ e, r }) => `<${e.tagName.toLowerCase()} class="${e.className}"> ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
}

async function onScreen(page: Page, selector: string) {
  const box = await page.locator(selector).first().boundingBox();
  expect(box, selector).not.toBeNull();
  expect(box!.x, `${selector} starts left of the screen`).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width, `${selector} ends right of the screen`).toBeLessThanOrEqual(PHONE.width);
}

test('at 390×844 no page scrolls sideways, and panels and toasts stay on screen', async ({ browser }) => {
  test.setTimeout(90_000);
  const { p, m, teamUrl, pageErrors } = await team(browser, 'Phone');
  await hearExpenses(m, teamUrl);
  for (const page of [p, m]) await page.setViewportSize(PHONE);

  // Rows with long words and amounts, then a toast on the mate's screen.
  const now = new Date().toISOString().slice(0, 7);
  const csv = ['date,amount,currency,category,description']
    .concat(Array.from({ length: 8 }, (_, i) => `${now}-0${i + 1},${1234567 + i}.89,${i % 2 ? 'EUR' : 'USD'},Software,Subscription-renewal-for-the-whole-team-${i}`))
    .join('\n');
  await openImport(p);
  await p.getByTestId('import-text').fill(csv + '\n');
  await p.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(p.getByTestId('import-result')).toHaveText('Imported 8 expenses.');
  // One entered by hand: the mate is told with a toast.
  const form = p.getByTestId('expense-form');
  await form.getByLabel('Amount').fill('98765.43');
  await form.getByLabel('Description').fill('A-very-long-description-without-any-spaces-in-it');
  await form.getByRole('button', { name: 'Add expense' }).click();
  await expect(m.getByTestId('toast').first()).toBeVisible();
  await onScreen(m, '[data-testid=toast]');
  await fitsTheWidth(m, 'the dashboard with a toast');

  await p.reload();
  await hydrated(p);
  await fitsTheWidth(p, 'the dashboard');
  expect(await smallTargets(p), 'touch targets under 24×24 px').toEqual([]);
  await p.getByTestId('notification-bell').click();
  await expect(p.locator('#notification-list')).toBeVisible();
  await onScreen(p, '#notification-list');
  await fitsTheWidth(p, 'the dashboard with its notification panel open');

  for (const path of ['/team', '/goals', '/settings']) {
    await p.goto(`${teamUrl}${path}`);
    await hydrated(p);
    await fitsTheWidth(p, path);
    expect(await smallTargets(p), `touch targets under 24×24 px on ${path}`).toEqual([]);
  }
  await p.goto(`${teamUrl}/team`);
  await p.getByRole('button', { name: 'Create invite link' }).click();
  const href = await p.getByTestId('invite-link').first().getAttribute('href');
  await m.goto(href!);
  await hydrated(m);
  await fitsTheWidth(m, 'the join page');
  // The join page follows the user's notifications: its indicator tells the truth.
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'live');

  const visitor = await browser.newContext({ viewport: PHONE });
  const v = await visitor.newPage();
  collectErrors(v, 'visitor', pageErrors);
  for (const path of ['/login', '/register']) {
    await v.goto(path);
    await hydrated(v);
    await fitsTheWidth(v, path);
    // Nothing is followed before signing in: nothing is said about live updates.
    await expect(v.getByTestId('live-status')).toHaveCount(0);
  }
  await visitor.close();
  expect(pageErrors).toEqual([]);
});
