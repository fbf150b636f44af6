import { expect, test } from '@playwright/test';
import { enhanced, register, team } from './helpers';

// Issue 15, point 3: a deletion can be undone for a few seconds, and everyone watching
// sees the rows go and come back (the undo is a write like any other, announced live).
test('deleted expenses and earnings come back with Undo, for everyone watching', async ({ browser }) => {
  const { p, m, pageErrors } = await team(browser, 'Undo');
  for (const page of [p, m]) await enhanced(page);
  const form = p.getByTestId('expense-form');
  for (const [amount, what] of [['4', 'paper'], ['9', 'toner']]) {
    await form.getByLabel('Amount').fill(amount);
    await form.getByLabel('Description').fill(what);
    await form.getByRole('button', { name: 'Add expense' }).click();
    await expect(m.getByTestId('expense-row').filter({ hasText: what })).toBeVisible();
  }
  const undo = p.getByTestId('undo-bar');
  await expect(undo).toBeHidden();
  await p.getByRole('checkbox', { name: /Select paper/ }).check();
  await p.getByRole('checkbox', { name: /Select toner/ }).check();
  await p.getByRole('button', { name: 'Delete selected' }).click();
  for (const page of [p, m]) await expect(page.getByTestId('expense-row')).toHaveCount(0);
  await expect(undo).toHaveText(/2 expenses deleted\./);
  await expect(m.getByTestId('undo-bar')).toBeHidden();
  await undo.getByRole('button', { name: 'Undo' }).click();
  await expect(undo).toBeHidden();
  for (const page of [p, m]) {
    await expect(page.getByTestId('expense-row')).toHaveCount(2);
    await expect(page.getByTestId('expense-total')).toContainText('13.00 EUR');
  }
  // One row, from its own button: the same.
  await m.getByTestId('expense-row').filter({ hasText: 'paper' }).getByRole('button', { name: 'Delete paper' }).click();
  await expect(p.getByTestId('expense-row')).toHaveCount(1);
  await expect(m.getByTestId('undo-bar')).toHaveText(/Expense deleted\./);
  await m.getByTestId('undo-bar').getByRole('button', { name: 'Undo' }).click();
  await expect(p.getByTestId('expense-row').filter({ hasText: 'paper' })).toBeVisible();
  // An earning: the same, one at a time.
  const earning = p.getByTestId('earning-form');
  await earning.getByLabel('Platform').selectOption({ label: 'Upwork' });
  await earning.getByLabel('Hours').fill('2');
  await earning.getByLabel('Amount').fill('150');
  await earning.getByLabel('Notes').fill('Logo sketch');
  await earning.getByRole('button', { name: 'Add earning' }).click();
  await expect(m.getByTestId('earning-row').filter({ hasText: 'Logo sketch' })).toBeVisible();
  await p.getByTestId('earning-row').getByRole('button', { name: /Delete earning/ }).click();
  await expect(m.getByTestId('earning-row')).toHaveCount(0);
  await expect(undo).toHaveText(/Earning deleted\./);
  await undo.getByRole('button', { name: 'Undo' }).click();
  for (const page of [p, m]) {
    await expect(page.getByTestId('earning-row').filter({ hasText: 'Logo sketch' })).toBeVisible();
  }
  expect(pageErrors).toEqual([]);
});

test('select all ticks the visible rows, and unticks them when all are ticked', async ({ page }) => {
  await register(page, 'Selector');
  await enhanced(page);
  const form = page.getByTestId('expense-form');
  for (const [amount, what] of [['1', 'one'], ['2', 'two'], ['3', 'three']]) {
    await form.getByLabel('Amount').fill(amount);
    await form.getByLabel('Description').fill(what);
    await form.getByRole('button', { name: 'Add expense' }).click();
    await expect(page.getByTestId('expense-row').filter({ hasText: what })).toBeVisible();
  }
  const boxes = page.getByRole('checkbox', { name: /^Select / });
  await page.getByRole('checkbox', { name: /Select two/ }).check();
  await page.getByRole('button', { name: 'Select all' }).click();
  for (const box of await boxes.all()) await expect(box).toBeChecked();
  await page.getByRole('button', { name: 'Select none' }).click();
  for (const box of await boxes.all()) await expect(box).not.toBeChecked();
  await page.getByRole('button', { name: 'Select all' }).click();
  await page.getByRole('button', { name: 'Delete selected' }).click();
  await expect(page.getByTestId('expense-row')).toHaveCount(0);
  await expect(page.getByTestId('undo-bar')).toHaveText(/3 expenses deleted\./);
});
