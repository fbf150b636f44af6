import { expect, test, type Page } from '@playwright/test';
import { hydrated, newUserPage, team, openImport } from './helpers';

async function spend(page: Page, amount: string, category: string, description: string) {
  const form = page.getByTestId('expense-form');
  await form.getByLabel('Amount').fill(amount);
  await form.getByLabel('Category').selectOption(category);
  await form.getByLabel('Description').fill(description);
  await form.getByRole('button', { name: 'Add expense' }).click();
  await expect(page.getByTestId('expense-row').filter({ hasText: description })).toBeVisible();
}

test('budgets cross 80 % and 100 % live in a second browser', async ({ browser }) => {
  test.setTimeout(90_000);
  const { p, m, pageErrors } = await team(browser, 'Budget');
  const form = p.getByTestId('budget-form');
  await form.getByLabel('Category').selectOption('Food');
  await form.getByLabel('Limit per month').fill('100');
  await form.getByRole('button', { name: 'Set budget' }).click();
  const mateFood = m.getByTestId('budget-row').filter({ hasText: 'Food' });
  await expect(mateFood).toHaveAttribute('data-state', 'ok');
  await expect(mateFood.getByTestId('budget-percent')).toHaveText('0 %');

  // Spending elsewhere leaves it alone; 85 in Food crosses 80 %.
  await spend(p, '500', 'Travel', 'Flights');
  await spend(p, '85', 'Food', 'Catering');
  await expect(mateFood).toHaveAttribute('data-state', 'warning');
  await expect(mateFood.getByTestId('budget-percent')).toHaveText('85 %');
  await expect(mateFood.getByTestId('budget-spent')).toHaveText('85.00 EUR of 100.00 EUR');
  await expect(m.getByTestId('toast').filter({ hasText: 'Food budget at 85 % in Budget Team' })).toBeVisible();

  // Another 5 stays a warning and says nothing new; 20 more crosses 100 %.
  await spend(p, '5', 'Food', 'Coffee');
  await expect(mateFood.getByTestId('budget-percent')).toHaveText('90 %');
  await spend(p, '20', 'Food', 'Pizza');
  await expect(mateFood).toHaveAttribute('data-state', 'exceeded');
  await expect(mateFood.getByTestId('budget-percent')).toHaveText('110 %');
  await expect(m.getByTestId('toast').filter({ hasText: 'Food budget exceeded in Budget Team' })).toBeVisible();
  // The owner who crossed it is told too; each alert exactly once.
  await expect(p.getByTestId('toast').filter({ hasText: 'Food budget exceeded in Budget Team' })).toBeVisible();
  await m.getByTestId('notification-bell').click();
  await expect(m.getByTestId('notification').filter({ hasText: 'Food budget at' })).toHaveCount(1);
  await expect(m.getByTestId('notification').filter({ hasText: 'Food budget exceeded' })).toHaveCount(1);

  // Deleting the pizza takes Food back under 100 % for everyone.
  await p.getByTestId('expense-row').filter({ hasText: 'Pizza' }).getByRole('button', { name: 'Delete Pizza' }).click();
  await expect(mateFood).toHaveAttribute('data-state', 'warning');
  await expect(mateFood.getByTestId('budget-percent')).toHaveText('90 %');
  expect(pageErrors).toEqual([]);
});

test('a goal reaches a milestone and completion, seen live with a celebration', async ({ browser }) => {
  test.setTimeout(90_000);
  const { p, m, teamUrl, pageErrors } = await team(browser, 'Goal');
  // The mate follows on the goals page, the owner on the dashboard.
  await m.goto(`${teamUrl}/goals`);
  await hydrated(m);
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'live');
  const form = p.getByTestId('goal-form');
  await form.getByLabel('Goal name').fill('New laptop');
  await form.getByLabel('Target').fill('200');
  await form.getByRole('button', { name: 'Add goal' }).click();
  const mateGoal = m.getByTestId('goal-row').filter({ hasText: 'New laptop' });
  await expect(mateGoal.getByTestId('goal-percent')).toHaveText('0 %');
  await expect(mateGoal.getByTestId('milestone')).toHaveCount(4);

  // A contribution the server refuses: its error shows above the goals (the row's form
  // has no place of its own), nothing is written, and what was typed stays.
  const ownerGoal = p.getByTestId('goal-row').filter({ hasText: 'New laptop' });
  await ownerGoal.getByLabel('Amount to add to New laptop').fill('ten');
  await ownerGoal.getByRole('button', { name: 'Add money' }).click();
  await expect(p.locator('#goals-error')).not.toBeEmpty();
  await expect(ownerGoal.getByLabel('Amount to add to New laptop')).toHaveValue('ten');
  await expect(ownerGoal.getByTestId('goal-percent')).toHaveText('0 %');

  // 60 of 200: the 25 % milestone, for the mate too; the error above is gone.
  await ownerGoal.getByLabel('Amount to add to New laptop').fill('60');
  await ownerGoal.getByRole('button', { name: 'Add money' }).click();
  await expect(mateGoal.getByTestId('goal-percent')).toHaveText('30 %');
  await expect(p.locator('#goals-error')).toBeEmpty();
  await expect(mateGoal.getByTestId('milestone').nth(0)).toHaveAttribute('data-reached', 'true');
  await expect(mateGoal.getByTestId('milestone').nth(1)).toHaveAttribute('data-reached', 'false');
  await expect(m.getByTestId('toast').filter({ hasText: 'New laptop: 25 % reached' })).toBeVisible();
  await expect(m.getByTestId('goal-celebration')).toHaveCount(0);

  // The mate puts in the rest: achieved, celebrated in both browsers.
  await mateGoal.getByLabel('Amount to add to New laptop').fill('140');
  await mateGoal.getByRole('button', { name: 'Add money' }).click();
  // Both pages' toasts first, at once: a toast lives 6 s, and checking one page after
  // the other's rows could outlast the second page's toast on a busy machine.
  await Promise.all(
    [p, m].map((page) =>
      expect(page.getByTestId('toast').filter({ hasText: 'Goal achieved in Goal Team: New laptop' })).toBeVisible(),
    ),
  );
  for (const page of [p, m]) {
    const row = page.getByTestId('goal-row').filter({ hasText: 'New laptop' });
    await expect(row).toHaveAttribute('data-achieved', 'true');
    await expect(row.getByTestId('goal-percent')).toHaveText('100 %');
    await expect(page.getByTestId('goal-celebration')).toContainText('Goal achieved: New laptop');
  }
  await expect(mateGoal.locator('[data-testid=milestone][data-reached=true]')).toHaveCount(4);

  // Removed while on the goals page: the page says so in place and shows no goals.
  await p.getByRole('link', { name: 'Team', exact: true }).click();
  await p.getByRole('button', { name: 'Remove GoalMate' }).click();
  await expect(m.getByTestId('workspace-lost')).toHaveText('You were removed from Goal Team');
  await expect(m.getByTestId('goal-list')).toBeHidden();
  await expect(m.getByTestId('goal-form')).toBeHidden();
  expect(pageErrors).toEqual([]);
});

test('a CSV import with a bad row is refused whole, then imported once fixed', async ({ browser }) => {
  test.setTimeout(60_000);
  const { context, page } = await newUserPage(browser, 'Importer');
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A second tab of the same workspace follows the import live.
  const other = await context.newPage();
  other.on('pageerror', (e) => errors.push(`2nd tab: ${e.message}`));
  await other.goto(page.url());
  await hydrated(other);
  await expect(other.getByTestId('live-status')).toHaveAttribute('data-status', 'live');

  // Dated in the current month (the server's, UTC), which the dashboard opens on.
  const month = new Date().toISOString().slice(0, 7);
  const bad = `date,amount,currency,category,description\n${month}-02,12.50,EUR,Food,Imported lunch\n${month}-03,-4,EUR,Food,Refund\n${month}-04,8,EUR,Travel,Imported bus\n`;
  // The panel's code is loaded when it is first opened (a split module).
  await openImport(page);
  await page.getByLabel('CSV file').setInputFiles({ name: 'expenses.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await expect(page.getByTestId('import-text')).toHaveValue(bad);
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByTestId('import-result')).toHaveText('3 rows, 1 with problems: nothing was imported. Fix them and try again.');
  await expect(page.getByTestId('import-problems')).toContainText('Line 3, amount');
  await expect(page.getByTestId('import-preview').locator('tbody tr')).toHaveCount(3);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByTestId('import-result')).toHaveAttribute('data-committed', 'false');
  await expect(page.getByText('No expenses in this period.')).toBeVisible();

  // Fixed (the bad row dropped): imported at once, in both tabs.
  await page.getByTestId('import-text').fill(bad.replace(`${month}-03,-4,EUR,Food,Refund\n`, ''));
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByTestId('import-result')).toHaveText('Imported 2 expenses.');
  for (const tab of [page, other]) {
    await expect(tab.getByTestId('expense-row')).toHaveCount(2);
    await expect(tab.getByTestId('expense-total')).toContainText('20.50 EUR');
  }
  await expect(page.getByTestId('toast').filter({ hasText: '2 expenses imported.' })).toBeVisible();
  expect(errors).toEqual([]);
});

test('a rename and a deletion of the workspace reach a member’s open dashboard', async ({ browser }) => {
  test.setTimeout(60_000);
  const { p, m, teamUrl, pageErrors } = await team(browser, 'Doomed');
  await p.goto(`${teamUrl}/settings`);
  await hydrated(p);
  await p.getByLabel('Workspace name').fill('Renamed Team');
  await p.getByRole('button', { name: 'Rename' }).click();
  await expect(m.getByTestId('workspace-name')).toHaveText('Renamed Team');

  await p.getByLabel(/Delete it with all its expenses/).check();
  await p.getByRole('button', { name: 'Delete workspace' }).click();
  await expect(m.getByTestId('workspace-lost')).toHaveText('Renamed Team was deleted');
  await expect(m.getByTestId('toast').filter({ hasText: 'Renamed Team was deleted' })).toBeVisible();
  await expect(p).not.toHaveURL(/\/settings$/);
  expect(pageErrors).toEqual([]);
});
