import { expect, test } from '@playwright/test';
import { enhanced, hydrated, newUserPage, register } from './helpers';

test('add, edit and delete an expense, with validation errors', async ({ page }) => {
  await register(page, 'Expensive');
  const form = page.getByTestId('expense-form');

  await form.getByLabel('Amount').fill('12.345');
  await form.getByLabel('Description').fill('Printer paper');
  await form.getByRole('button', { name: 'Add expense' }).click();
  await expect(page.locator('#expense-amount-error')).toHaveText(/at most 2 digits/);
  await expect(page.getByTestId('expense-row')).toHaveCount(0);
  await expect(form.getByLabel('Description')).toHaveValue('Printer paper');

  await form.getByLabel('Amount').fill('12.34');
  await form.getByLabel('Category').selectOption('Office');
  await form.getByRole('button', { name: 'Add expense' }).click();
  const row = page.getByTestId('expense-row').filter({ hasText: 'Printer paper' });
  await expect(row).toContainText('12.34 EUR');
  await expect(row).toContainText('Office');
  await expect(page.getByTestId('expense-total')).toContainText('12.34 EUR');
  await expect(form.getByLabel('Description')).toHaveValue('');
  // The period's totals by category follow the list.
  const office = page.getByTestId('category-total').filter({ hasText: 'Office' });
  await expect(office).toContainText('12.34 EUR');

  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(page).toHaveURL(/edit_expense=\d+/);
  const edit = page.getByTestId('expense-form');
  await expect(edit.getByRole('heading', { name: 'Edit expense' })).toBeVisible();
  await expect(edit.getByLabel('Amount')).toHaveValue('12.34');
  await edit.getByLabel('Amount').fill('20');
  await edit.getByLabel('Description').fill('Printer toner');
  await edit.getByRole('button', { name: 'Save expense' }).click();
  await expect(page).not.toHaveURL(/edit_expense/);
  const edited = page.getByTestId('expense-row').filter({ hasText: 'Printer toner' });
  await expect(edited).toContainText('20.00 EUR');
  await expect(page.getByTestId('expense-total')).toContainText('20.00 EUR');
  await expect(office).toContainText('20.00 EUR');

  await edited.getByRole('button', { name: 'Delete Printer toner' }).click();
  await expect(page.getByTestId('expense-row')).toHaveCount(0);
  await expect(page.getByTestId('category-total')).toHaveCount(0);
  await expect(page.getByText('No expenses in this period.')).toBeVisible();
});

test('delete several expenses at once', async ({ page }) => {
  await register(page, 'Bulk');
  // Nothing to select yet: no "Delete selected".
  await expect(page.getByRole('button', { name: 'Delete selected' })).toBeHidden();
  const form = page.getByTestId('expense-form');
  for (const [amount, what] of [['1', 'one'], ['2', 'two'], ['3', 'three']]) {
    await form.getByLabel('Amount').fill(amount);
    await form.getByLabel('Description').fill(what);
    await form.getByRole('button', { name: 'Add expense' }).click();
    await expect(page.getByTestId('expense-row').filter({ hasText: what })).toBeVisible();
  }
  await page.getByRole('checkbox', { name: /Select one/ }).check();
  await page.getByRole('checkbox', { name: /Select three/ }).check();
  await page.getByRole('button', { name: 'Delete selected' }).click();
  await expect(page.getByTestId('expense-row')).toHaveCount(1);
  await expect(page.getByTestId('expense-row')).toContainText('two');
  await page.getByRole('checkbox', { name: /Select two/ }).check();
  await page.getByRole('button', { name: 'Delete selected' }).click();
  await expect(page.getByTestId('expense-row')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete selected' })).toBeHidden();
});

test('add, edit and delete an earning, with its hourly rate', async ({ page }) => {
  await register(page, 'Freelancer');
  const form = page.getByTestId('earning-form');
  await form.getByLabel('Platform').selectOption({ label: 'Upwork' });
  await form.getByLabel('Hours').fill('abc');
  await form.getByLabel('Amount').fill('300');
  await form.getByRole('button', { name: 'Add earning' }).click();
  await expect(page.locator('#earning-hours-error')).toContainText('Enter hours as a number');
  await expect(page.getByTestId('earning-row')).toHaveCount(0);

  await form.getByLabel('Hours').fill('4');
  await form.getByLabel('Currency').selectOption('USD');
  await form.getByLabel('Notes').fill('Landing page');
  await form.getByRole('button', { name: 'Add earning' }).click();
  const row = page.getByTestId('earning-row').filter({ hasText: 'Landing page' });
  await expect(row).toContainText('Upwork');
  await expect(row).toContainText('300.00 USD');
  await expect(row.getByTestId('earning-rate')).toHaveText('75.00 USD/h');
  await expect(page.getByTestId('earning-total')).toContainText('300.00 USD');
  // The charts follow the list: twelve months up to this one, the peak this earning.
  const chart = page.getByTestId('earnings-chart');
  await expect(chart).toHaveAttribute('data-currency', 'USD');
  await expect(chart.getByTestId('chart-bar')).toHaveCount(12);
  await expect(chart.getByTestId('chart-peak')).toHaveText('300.00 USD');
  await expect(page.getByTestId('category-total').filter({ hasText: 'Upwork' })).toContainText('300.00 USD');

  await row.getByRole('link', { name: 'Edit' }).click();
  const edit = page.getByTestId('earning-form');
  await expect(edit.getByLabel('Hours')).toHaveValue('4');
  await edit.getByLabel('Hours').fill('5');
  await edit.getByRole('button', { name: 'Save earning' }).click();
  await expect(page).not.toHaveURL(/edit_earning/);
  await expect(page.getByTestId('earning-row').getByTestId('earning-rate')).toHaveText('60.00 USD/h');

  await page.getByTestId('earning-row').getByRole('button', { name: /Delete earning/ }).click();
  await expect(page.getByTestId('earning-row')).toHaveCount(0);
  await expect(page.getByTestId('earnings-chart')).toHaveCount(0);
});

test('a platform added on the page is offered by the earning form at once, without a reload', async ({ page }) => {
  await register(page, 'Platformer');
  // The earning form is rendered by the server (a slot of the island): the island adds
  // the new platform to its choices as the list learns of it.
  await page.evaluate(() => ((window as any).__samePage = true));
  await page.getByText('Add a platform').click();
  await page.getByLabel('Platform name').fill('Contra');
  await page.getByRole('button', { name: 'Add platform' }).click();
  const form = page.getByTestId('earning-form');
  await expect(form.getByLabel('Platform').locator('option', { hasText: 'Contra' })).toHaveCount(1);
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
  await form.getByLabel('Platform').selectOption({ label: 'Contra' });
  await form.getByLabel('Amount').fill('120');
  await form.getByRole('button', { name: 'Add earning' }).click();
  await expect(page.getByTestId('earning-row').filter({ hasText: 'Contra' })).toContainText('120.00 EUR');
});

test('a teammate joins through an invite and sees the shared expenses; outsiders do not', async ({ browser }) => {
  const owner = await newUserPage(browser, 'Owner');
  const p = owner.page;
  await p.getByText('New team workspace').click();
  await p.getByLabel('Name', { exact: true }).fill('Design Studio');
  await p.getByRole('button', { name: 'Create' }).click();
  await expect(p.getByTestId('workspace-name')).toHaveText('Design Studio');
  const teamUrl = p.url();
  await hydrated(p);

  const form = p.getByTestId('expense-form');
  await form.getByLabel('Amount').fill('49.90');
  await form.getByLabel('Description').fill('Font licence');
  await form.getByRole('button', { name: 'Add expense' }).click();
  await expect(p.getByTestId('expense-row').filter({ hasText: 'Font licence' })).toBeVisible();

  await p.getByRole('link', { name: 'Team' }).click();
  await expect(p.getByRole('heading', { name: 'Team of Design Studio' })).toBeVisible();
  await p.getByLabel('Their role').selectOption('member');
  await p.getByRole('button', { name: 'Create invite link' }).click();
  const link = p.getByTestId('invite-link').first();
  await expect(link).toBeVisible();
  const href = await link.getAttribute('href');

  const mate = await newUserPage(browser, 'Mate');
  await mate.page.goto(href!);
  await hydrated(mate.page);
  await mate.page.getByRole('button', { name: 'Join Design Studio' }).click();
  await expect(mate.page.getByTestId('workspace-name')).toHaveText('Design Studio');
  await expect(mate.page.getByTestId('expense-row').filter({ hasText: 'Font licence' })).toContainText('49.90 EUR');

  // The owner sees the new member and can make them a viewer.
  await p.reload();
  const row = p.getByTestId('member-row').filter({ hasText: 'Mate' });
  await expect(row).toBeVisible();
  await row.getByLabel('Role').selectOption('viewer');
  await row.getByRole('button', { name: 'Change' }).click();
  await expect(p.getByTestId('member-row').filter({ hasText: 'Mate' }).getByLabel('Role')).toHaveValue('viewer');
  await mate.page.reload();
  await expect(mate.page.getByText('You are a viewer in this workspace')).toBeVisible();
  await expect(mate.page.getByTestId('expense-form')).toHaveCount(0);

  const outsider = await newUserPage(browser, 'Outsider');
  await outsider.page.goto(teamUrl);
  await expect(outsider.page.getByRole('heading', { name: 'Workspace not found' })).toBeVisible();
  await expect(outsider.page.getByText('Font licence')).toHaveCount(0);

  await owner.context.close();
  await mate.context.close();
  await outsider.context.close();
});

test('quick entry: what is typed while an add is on its way is kept; the button waits for the answer', async ({ page }) => {
  await register(page, 'Quick');
  await enhanced(page);
  const form = page.getByTestId('expense-form');
  // A slow network: the answer to each add comes 800 ms late (latency, not a wait of the test's).
  await page.route('**/api/expenses/create', async (route) => {
    await new Promise((done) => setTimeout(done, 800));
    await route.continue();
  });
  await form.getByLabel('Amount').fill('5');
  await form.getByLabel('Description').fill('First coffee');
  const add = form.getByRole('button', { name: 'Add expense' });
  await add.click();
  await expect(add).toBeDisabled();
  // Typed after pressing Add, before the answer.
  await form.getByLabel('Description').fill('Second coffee');
  await expect(page.getByTestId('expense-row').filter({ hasText: 'First coffee' })).toBeVisible();
  await expect(add).toBeEnabled();
  // What was sent and left alone is cleared; what was typed since stays.
  await expect(form.getByLabel('Amount')).toHaveValue('');
  await expect(form.getByLabel('Description')).toHaveValue('Second coffee');
  // An error keeps everything, and the button works again.
  await form.getByLabel('Amount').fill('-1');
  await add.click();
  await expect(page.locator('#expense-amount-error')).toHaveText('The amount must be greater than zero.');
  await expect(add).toBeEnabled();
  await expect(form.getByLabel('Amount')).toHaveValue('-1');
  await expect(form.getByLabel('Description')).toHaveValue('Second coffee');
});
