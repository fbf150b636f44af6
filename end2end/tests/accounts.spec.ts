import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { collectErrors, hydrated, newUserPage, PASSWORD, register, uniqueEmail } from './helpers';

test('register, log out, see a wrong password refused, log in again', async ({ page }) => {
  const email = await register(page, 'Ada');
  await expect(page.getByTestId('workspace-name')).toHaveText("Ada's workspace");

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);

  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByText('Wrong email or password.')).toBeVisible();
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/w\/\d+$/);
  await expect(page.getByTestId('user-name')).toHaveText('Ada');
});

test('registration errors are shown next to their field', async ({ page }) => {
  const email = await register(page, 'Grace');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Your name').fill('Someone');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password (at least 10 characters)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#register-email-error')).toHaveText(/already exists/);

  await page.getByLabel('Email').fill(uniqueEmail('weak'));
  await page.getByLabel('Password (at least 10 characters)').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#register-password-error')).toHaveText('Use at least 10 characters.');
  await expect(page).toHaveURL(/\/register$/);
});

test('forms work before the WASM has loaded', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/register');
  const email = uniqueEmail('noscript');
  await page.getByLabel('Your name').fill('NoScript');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password (at least 10 characters)').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#register-password-error')).toHaveText('Use at least 10 characters.');
  // Name and address come back as typed; the password never does.
  await expect(page.getByLabel('Your name')).toHaveValue('NoScript');
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await expect(page.getByLabel('Password (at least 10 characters)')).toHaveValue('');
  await page.getByLabel('Password (at least 10 characters)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/w\/\d+$/);

  await page.getByLabel('Amount').first().fill('-4');
  await page.locator('#expense-description').fill('Typed before the error');
  await page.locator('#expense-category').selectOption('Travel');
  await page.getByRole('button', { name: 'Add expense' }).click();
  await expect(page.locator('#expense-amount-error')).toHaveText('The amount must be greater than zero.');
  // Nothing is followed live without JavaScript, and the page does not pretend it is.
  await expect(page.getByTestId('live-status')).toBeHidden();
  // The refused form comes back as it was typed.
  await expect(page.locator('#expense-amount')).toHaveValue('-4');
  await expect(page.locator('#expense-description')).toHaveValue('Typed before the error');
  await expect(page.locator('#expense-category')).toHaveValue('Travel');

  await page.getByLabel('Amount').first().fill('4.20');
  await page.locator('#expense-description').fill('Tea without JavaScript');
  await page.getByRole('button', { name: 'Add expense' }).click();
  await expect(page.getByTestId('expense-row').filter({ hasText: 'Tea without JavaScript' })).toContainText('4.20 EUR');
  await context.close();
});

test('the Content-Security-Policy lets the app hydrate and refuses any other inline script', async ({ page }) => {
  const errors: string[] = [];
  collectErrors(page, 'page', errors);
  const response = await page.goto('/login');
  const policy = response!.headers()['content-security-policy'];
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=_-]+' 'wasm-unsafe-eval'/);
  await hydrated(page);
  expect(errors).toEqual([]);

  // A script injected without the page's nonce (as an XSS would be) is refused, does
  // not run, and is reported: the same report the other specs fail on.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = '(window as any).__injected = true'.replace(' as any', '');
    document.body.appendChild(s);
  });
  await expect.poll(() => errors.length).toBeGreaterThan(0);
  expect(errors[0]).toMatch(/Content Security Policy/);
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
});

test('a password change signs every other browser out at once; one’s data downloads; the account can be deleted', async ({ browser }) => {
  const here = await browser.newContext();
  const a = await here.newPage();
  const email = await register(a, 'Changer');
  const pageErrors: string[] = [];
  collectErrors(a, 'changer', pageErrors);

  // The same person in another browser, live on the dashboard.
  const elsewhere = await browser.newContext();
  const b = await elsewhere.newPage();
  await b.goto('/login');
  await hydrated(b);
  await b.getByLabel('Email').fill(email);
  await b.getByLabel('Password').fill(PASSWORD);
  await b.getByRole('button', { name: 'Log in' }).click();
  await expect(b).toHaveURL(/\/w\/\d+$/);
  await hydrated(b);
  await expect(b.getByTestId('live-status')).toHaveAttribute('data-status', 'live');
  await expect(a.getByTestId('live-status')).toHaveAttribute('data-status', 'live');

  await a.getByTestId('user-name').click();
  await expect(a).toHaveURL(/\/account$/);
  await expect(a.getByRole('heading', { level: 1 })).toHaveText('Your account');
  await a.getByLabel('Current password').fill('not my password');
  await a.getByLabel('New password (at least 10 characters)').fill('a much newer sentence');
  await a.getByRole('button', { name: 'Change password' }).click();
  await expect(a.locator('#password-current_password-error')).toHaveText('That is not your current password.');
  await a.getByLabel('Current password').fill(PASSWORD);
  await a.getByLabel('New password (at least 10 characters)').fill('a much newer sentence');
  await a.getByRole('button', { name: 'Change password' }).click();
  await expect(a.getByText('Password changed. Your other sessions have ended.')).toBeVisible();
  // The other browser is sent to the login page by its socket's close, without a click.
  await expect(b).toHaveURL(/\/login$/);
  // This one goes on.
  await a.goto('/');
  await expect(a.getByTestId('user-name')).toHaveText('Changer');

  // The export is a JSON download of what this person entered.
  await a.getByTestId('expense-form').getByLabel('Amount').fill('3.10');
  await a.getByTestId('expense-form').getByLabel('Description').fill('exported coffee');
  await a.getByRole('button', { name: 'Add expense' }).click();
  await expect(a.getByTestId('expense-row').filter({ hasText: 'exported coffee' })).toBeVisible();
  await a.goto('/account');
  const [download] = await Promise.all([a.waitForEvent('download'), a.getByTestId('account-export').click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  expect(exported.account.email).toBe(email.toLowerCase());
  expect(exported.expenses.map((e: any) => e.description)).toEqual(['exported coffee']);

  // Deleting: the password and the tick are asked for; then the account is gone.
  await a.getByLabel('Your password').fill('a much newer sentence');
  await a.getByLabel('Delete my account and my data, for good').check();
  await a.getByRole('button', { name: 'Delete account' }).click();
  await expect(a).toHaveURL(/\/register\?deleted=1$/);
  await expect(a.getByTestId('account-deleted')).toHaveText('Your account was deleted.');
  await b.goto('/login');
  await hydrated(b);
  await b.getByLabel('Email').fill(email);
  await b.getByLabel('Password').fill('a much newer sentence');
  await b.getByRole('button', { name: 'Log in' }).click();
  await expect(b.getByText('Wrong email or password.')).toBeVisible();
  expect(pageErrors).toEqual([]);
  await here.close();
  await elsewhere.close();
});

test('an invite link is copied with one click', async ({ browser }) => {
  const owner = await newUserPage(browser, 'Copier');
  const p = owner.page;
  await owner.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await p.getByText('New team workspace').click();
  await p.getByLabel('Name', { exact: true }).fill('Copy Team');
  await p.getByRole('button', { name: 'Create' }).click();
  await p.getByRole('link', { name: 'Team', exact: true }).click();
  await p.getByRole('button', { name: 'Create invite link' }).click();
  const href = await p.getByTestId('invite-link').first().getAttribute('href');
  const copy = p.getByRole('button', { name: /^Copy link for invite/ }).first();
  await copy.click();
  await expect(copy).toHaveText('Copied');
  expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(new URL(href!, p.url()).href);
  await owner.context.close();
});
