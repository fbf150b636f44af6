import { expect, type Browser, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** A unique email per call, so tests never collide on the shared database. */
export function uniqueEmail(name: string): string {
  return `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/**
 * Records what must never happen in a page: an uncaught error (a failed hydration
 * panics) or anything the Content-Security-Policy refused (Chromium reports those as
 * console errors).
 */
export function collectErrors(page: Page, who: string, into: string[]) {
  page.on('pageerror', (e) => into.push(`${who}: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
      into.push(`${who}: ${msg.text()}`);
    }
  });
}

/**
 * Waits until the WASM client has hydrated the page (forms are then enhanced). Checks
 * on a timer rather than on animation frames, and, if the page never hydrates, says
 * how far it got: whether the JS module ran (`__hydrateIsland` is Leptos' island
 * loader's), which `/pkg` files it fetched, and any uncaught error meanwhile.
 */
export async function hydrated(page: Page, timeout = 30_000) {
  const errors: string[] = [];
  const onError = (e: Error) => errors.push(e.message);
  page.on('pageerror', onError);
  try {
    await page.waitForFunction(() => (window as any).__liveledgerHydrated === true, undefined, {
      polling: 100,
      timeout,
    });
  } catch (e) {
    const state = await page
      .evaluate(async () => ({
        url: location.href,
        readyState: document.readyState,
        visibility: document.visibilityState,
        moduleRan: typeof (window as any).__hydrateIsland === 'function',
        // Leptos' island script starts from a requestIdleCallback: does one fire now?
        idleFires: await Promise.race([
          new Promise((r) => requestIdleCallback(() => r(true))),
          new Promise((r) => setTimeout(() => r(false), 2000)),
        ]),
        // …and does importing the client's module resolve now?
        importResolves: await Promise.race([
          import(
            (document.querySelector('link[rel=modulepreload]') as HTMLLinkElement | null)?.href ?? '/none.js'
          ).then(
            () => true,
            (e) => `rejected: ${e}`,
          ),
          new Promise((r) => setTimeout(() => r(false), 3000)),
        ]),
        frameFires: await Promise.race([
          new Promise((r) => requestAnimationFrame(() => r(true))),
          new Promise((r) => setTimeout(() => r(false), 2000)),
        ]),
        pkg: performance
          .getEntriesByType('resource')
          .filter((r) => r.name.includes('/pkg/'))
          .map((r) => `${r.name} ${(r as PerformanceResourceTiming).responseEnd > 0 ? 'fetched' : 'pending'}`),
      }))
      .catch((err) => `the page does not answer: ${err}`);
    throw new Error(`the page did not hydrate within ${timeout} ms: ${JSON.stringify(state)}; errors: ${JSON.stringify(errors)}; ${e}`);
  } finally {
    page.off('pageerror', onError);
  }
}

/** Waits until `/enhance.js` (quick entry, undo, select all; loaded after hydration) runs. */
export async function enhanced(page: Page) {
  await page.waitForFunction(() => (window as any).__liveledgerEnhanced === true);
}

/** Registers through the form and lands on the personal workspace. */
export async function register(page: Page, name: string, email = uniqueEmail(name)) {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password (at least 10 characters)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/w\/\d+$/);
  await expect(page.getByTestId('user-name')).toHaveText(name);
  await hydrated(page);
  return email;
}

export async function newUserPage(browser: Browser, name: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const email = await register(page, name);
  return { context, page, email };
}

/** An owner with a new team workspace and a mate who joined it, both on its dashboard. */
export async function team(browser: Browser, name: string) {
  const owner = await newUserPage(browser, `${name}Owner`);
  const p = owner.page;
  const pageErrors: string[] = [];
  collectErrors(p, 'owner', pageErrors);
  await p.getByText('New team workspace').click();
  await p.getByLabel('Name', { exact: true }).fill(`${name} Team`);
  await p.getByRole('button', { name: 'Create' }).click();
  await expect(p.getByTestId('workspace-name')).toHaveText(`${name} Team`);
  const teamUrl = p.url();
  await p.getByRole('link', { name: 'Team', exact: true }).click();
  await p.getByRole('button', { name: 'Create invite link' }).click();
  const href = await p.getByTestId('invite-link').first().getAttribute('href');
  const mateContext = await browser.newContext();
  const m = await mateContext.newPage();
  collectErrors(m, 'mate', pageErrors);
  await register(m, `${name}Mate`);
  await m.goto(href!);
  await hydrated(m);
  await expect(m.getByTestId('invited-by')).toHaveText(`${name}Owner invited you as Member.`);
  await m.getByRole('button', { name: `Join ${name} Team` }).click();
  await expect(m.getByTestId('workspace-name')).toHaveText(`${name} Team`);
  await p.goto(teamUrl);
  await hydrated(p);
  for (const page of [p, m]) {
    await expect(page.getByTestId('live-status')).toHaveAttribute('data-status', 'live');
  }
  return { p, m, teamUrl, pageErrors };
}

/**
 * Through the settings page: `page`'s user asks to hear of teammates' expenses in the
 * workspace at `teamUrl` (quiet by default), then is back on its dashboard, live.
 */
export async function hearExpenses(page: Page, teamUrl: string) {
  await page.goto(`${teamUrl}/settings`);
  const choice = page.getByLabel('A teammate adds an expense');
  await expect(choice).toHaveValue('off');
  await choice.selectOption('toast');
  await page.getByRole('button', { name: 'Save notifications' }).click();
  await expect(page.getByLabel('A teammate adds an expense')).toHaveValue('toast');
  await page.reload();
  await expect(page.getByLabel('A teammate adds an expense')).toHaveValue('toast');
  await page.goto(teamUrl);
  await hydrated(page);
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-status', 'live');
}

/** Opens the dashboard's import panel, whose code loads when it is first opened. */
export async function openImport(page: Page) {
  await page.getByText('Import from CSV').click();
  await expect(page.getByTestId('import-text')).toBeVisible();
}
