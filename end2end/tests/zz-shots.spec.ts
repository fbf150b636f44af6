import { expect, test } from '@playwright/test';
import { hydrated, team } from './helpers';

test('shots', async ({ browser }) => {
  test.setTimeout(90_000);
  const { p, teamUrl } = await team(browser, 'Shot');
  const form = p.getByTestId('expense-form');
  for (const [amount, what] of [['4', 'paper'], ['9', 'toner'], ['12.5', 'lunch with the client']]) {
    await form.getByLabel('Amount').fill(amount);
    await form.getByLabel('Description').fill(what);
    await form.getByRole('button', { name: 'Add expense' }).click();
    await expect(p.getByTestId('expense-row').filter({ hasText: what })).toBeVisible();
  }
  await p.screenshot({ path: '/tmp/shot-desktop.png' });
  await p.setViewportSize({ width: 390, height: 844 });
  await p.reload();
  await hydrated(p);
  await p.screenshot({ path: '/tmp/shot-phone.png' });
  const row = await p.getByTestId('expense-row').first().boundingBox();
  console.log('first row top on phone:', row?.y);
  await p.emulateMedia({ colorScheme: 'dark' });
  await p.goto('/account');
  await p.screenshot({ path: '/tmp/shot-account-dark.png', fullPage: true });
  await p.setViewportSize({ width: 1280, height: 800 });
  await p.goto(`${teamUrl}/settings`);
  await p.emulateMedia({ colorScheme: 'light' });
  await p.screenshot({ path: '/tmp/shot-settings.png', fullPage: true });
});
