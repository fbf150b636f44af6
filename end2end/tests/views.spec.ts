import { expect, test, type Page } from '@playwright/test';
import { hydrated, register, team, openImport } from './helpers';

/**
 * 'YYYY-MM' of the current month in `timeZone` (by default this machine's, which the
 * browser reports when it creates a workspace), moved by `by` months.
 */
function month(by = 0, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(new Date());
  const [y, m] = ['year', 'month'].map((t) => Number(parts.find((p) => p.type === t)!.value));
  return new Date(Date.UTC(y, m - 1 + by, 1)).toISOString().slice(0, 7);
}

function label(key: string): string {
  const [y, m] = key.split('-').map(Number);
  return `${new Date(Date.UTC(y, m - 1, 1)).toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' })} ${y}`;
}

async function addExpense(page: Page, amount: string, category: string, description: string, date: string) {
  const form = page.getByTestId('expense-form');
  await form.getByLabel('Amount').fill(amount);
  await form.getByLabel('Category').selectOption(category);
  await form.getByLabel('Description').fill(description);
  await form.getByLabel('Date').fill(date);
  await form.getByRole('button', { name: 'Add expense' }).click();
  // Accepted: the form is blank again.
  await expect(form.getByLabel('Description')).toHaveValue('');
}

test('a month and a search in the URL, paged, and still live from another browser', async ({ browser }) => {
  test.setTimeout(150_000);
  const { p, m, teamUrl, pageErrors } = await team(browser, 'Views');
  const [now, before] = [month(0), month(-1)];

  // 55 small lunches on the 1st (imported at once), then three entries by hand.
  const csv = ['date,amount,currency,category,description']
    .concat(Array.from({ length: 55 }, (_, i) => `${now}-01,1,EUR,Food,bulk lunch ${String(i + 1).padStart(2, '0')}`))
    .join('\n');
  await openImport(p);
  await p.getByTestId('import-text').fill(csv + '\n');
  await p.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(p.getByTestId('import-result')).toHaveText('Imported 55 expenses.');
  // The import's event made the list load afresh: wait for it, so the two rows below
  // arrive live on top of it (a reload that raced them could show 50 or 52).
  await expect(p.getByTestId('expense-count')).toContainText('50 of 55 expenses');
  await addExpense(p, '10', 'Food', 'Team lunch', `${now}-02`);
  await addExpense(p, '7', 'Transport', 'Taxi', `${now}-02`);
  await addExpense(p, '99', 'Food', 'Old lunch', `${before}-15`);

  // The dashboard opens on this month: last month's lunch is not in it. The two
  // entries after the import arrived live, newest, so they are shown as well as counted.
  await expect(p.getByTestId('period')).toHaveText(label(now));
  await expect(p.getByTestId('expense-count')).toContainText('52 of 57 expenses');
  await expect(p.getByTestId('period-summary')).toContainText('Spent 72.00 EUR · Earned 0 · Net -72.00 EUR');
  await expect(p.getByTestId('expense-row').filter({ hasText: 'Old lunch' })).toHaveCount(0);

  // The mate searches (a plain GET form: the view is in the URL).
  await m.getByText('Search and filters').click();
  await m.getByLabel('Search').fill('Lunch');
  await m.getByRole('button', { name: 'Apply' }).click();
  await expect(m).toHaveURL(new RegExp(`period=${now}&q=Lunch`));
  await hydrated(m);
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'live');
  await expect(m.getByTestId('expense-count')).toContainText('50 of 56 expenses');
  await expect(m.getByTestId('expense-total')).toContainText('65.00 EUR');
  await expect(m.getByTestId('expense-row').first()).toContainText('Team lunch');

  // The month before, same search, and back: links that keep the filters.
  await m.getByTestId('period-prev').click();
  await expect(m).toHaveURL(new RegExp(`period=${before}&q=lunch`));
  await expect(m.getByTestId('expense-row')).toHaveCount(1);
  await expect(m.getByTestId('expense-row')).toContainText('Old lunch');
  await m.getByTestId('period-next').click();
  await hydrated(m);
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'live');

  // Live, from the owner's browser: a lunch this month appears for the mate in place
  // and moves the totals; a bus ride, or a lunch in another month, changes nothing.
  await addExpense(p, '25', 'Food', 'Client lunch', `${now}-02`);
  await expect(m.getByTestId('expense-row').first()).toContainText('Client lunch');
  await expect(m.getByTestId('expense-total')).toContainText('90.00 EUR');
  await addExpense(p, '3', 'Transport', 'Bus', `${now}-02`);
  await addExpense(p, '40', 'Food', 'Lunch next month', `${month(1)}-03`);
  // (The owner's own list shows the bus at once; by then the mate has its event too.)
  // The new lunch is shown as well as counted: 51 rows shown of 57.
  await expect(p.getByTestId('expense-row').filter({ hasText: 'Bus' })).toBeVisible();
  await expect(m.getByTestId('expense-count')).toContainText('51 of 57 expenses');
  await expect(m.getByTestId('expense-total')).toContainText('90.00 EUR');

  // A row the mate has not loaded (the oldest lunch) deleted by the owner: the count
  // and the total still follow.
  await p.goto(`${teamUrl}?q=bulk%20lunch%2001`);
  await hydrated(p);
  await p.getByRole('button', { name: 'Delete bulk lunch 01' }).click();
  await expect(p.getByTestId('expense-row')).toHaveCount(0);
  await expect(m.getByTestId('expense-count')).toContainText('51 of 56 expenses');
  await expect(m.getByTestId('expense-total')).toContainText('89.00 EUR');

  // An edit that takes a row out of the search removes it.
  await p.goto(`${teamUrl}?q=team`);
  await hydrated(p);
  await p.getByTestId('expense-row').filter({ hasText: 'Team lunch' }).getByRole('link', { name: 'Edit' }).click();
  await p.getByTestId('expense-form').getByLabel('Description').fill('Team dinner');
  await p.getByRole('button', { name: 'Save expense' }).click();
  await expect(m.getByTestId('expense-row').filter({ hasText: 'Team lunch' })).toHaveCount(0);
  await expect(m.getByTestId('expense-total')).toContainText('79.00 EUR');
  await expect(m.getByTestId('expense-count')).toContainText('50 of 55 expenses');

  // Show more: the rest of the lunches, each once.
  await m.getByTestId('expense-more').click();
  await expect(m.getByTestId('expense-row')).toHaveCount(55);
  await expect(m.getByTestId('expense-count')).toContainText('55 expenses');
  await expect(m.getByTestId('expense-count')).not.toContainText(' of ');
  await expect(m.getByTestId('expense-more')).toBeHidden();
  const names = await m.getByTestId('expense-row').locator('.description').allTextContents();
  expect(new Set(names).size).toBe(55);

  // A bad parameter is said, and the month is shown instead.
  await m.goto(`${teamUrl}?period=${now.slice(0, 4)}-13`);
  await expect(m.getByTestId('view-error')).toContainText('Choose a month as YYYY-MM.');
  await expect(m.getByTestId('period')).toHaveText(label(now));
  expect(pageErrors).toEqual([]);
});

test('a workspace keeps the time zone of the browser that made it, and its months follow the zone', async ({ browser }) => {
  test.setTimeout(60_000);
  // UTC+14 and UTC-11: never the same date, so the two zones' "today" always differ.
  const [east, west] = ['Pacific/Kiritimati', 'Pacific/Niue'];
  const context = await browser.newContext({ timezoneId: east });
  const p = await context.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await register(p, 'Zoned');
  await expect(p.getByTestId('zone-note')).toContainText(`Months in ${east}`);
  await expect(p.getByTestId('period')).toHaveText(label(month(0, east)));

  // A team made from this browser takes its zone too.
  await p.getByText('New team workspace').click();
  await p.getByLabel('Name', { exact: true }).fill('Zoned Team');
  await p.getByRole('button', { name: 'Create' }).click();
  await expect(p.getByTestId('workspace-name')).toHaveText('Zoned Team');
  await expect(p.getByTestId('zone-note')).toContainText(`Months in ${east}`);

  // The owner moves it across the date line: the dashboard opens on the month there.
  await p.getByTestId('zone-note').getByRole('link', { name: 'Settings' }).click();
  await expect(p.getByTestId('time-zone')).toHaveText(east);
  await p.getByRole('combobox', { name: 'Time zone' }).selectOption(west);
  await p.getByRole('button', { name: 'Set time zone' }).click();
  await expect(p.getByTestId('time-zone')).toHaveText(west);
  const dateThere = () => new Intl.DateTimeFormat('en-CA', { timeZone: west }).format(new Date());
  const before = dateThere();
  await p.getByRole('link', { name: /Back to Zoned Team/ }).click();
  await expect(p.getByTestId('zone-note')).toContainText(`Months in ${west}`);
  await expect(p.getByTestId('period')).toHaveText(label(month(0, west)));
  // A new expense starts on today there (read before and after: midnight may fall between).
  const date = await p.getByTestId('expense-form').getByLabel('Date').inputValue();
  expect([before, dateThere()]).toContain(date);
  expect(errors).toEqual([]);
  await context.close();
});
