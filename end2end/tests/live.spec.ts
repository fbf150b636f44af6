import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import { collectErrors, hearExpenses, hydrated, newUserPage } from './helpers';

/** Adds an expense through the form and returns the moment the click happened. */
async function addExpense(page: Page, amount: string, description: string) {
  const form = page.getByTestId('expense-form');
  await form.getByLabel('Amount').fill(amount);
  await form.getByLabel('Description').fill(description);
  const clicked = Date.now();
  await form.getByRole('button', { name: 'Add expense' }).click();
  return clicked;
}

test('two members see each other’s changes live; polling covers a blocked socket; outsiders see nothing', async ({ browser }) => {
  test.setTimeout(120_000);
  const owner = await newUserPage(browser, 'LiveOwner');
  const p = owner.page;
  // Any uncaught error in either page (a failed hydration panics) fails the test.
  const pageErrors: string[] = [];
  collectErrors(p, 'owner', pageErrors);
  await p.getByText('New team workspace').click();
  await p.getByLabel('Name', { exact: true }).fill('Live Team');
  await p.getByRole('button', { name: 'Create' }).click();
  await expect(p.getByTestId('workspace-name')).toHaveText('Live Team');
  const teamUrl = p.url();
  await p.getByRole('link', { name: 'Team', exact: true }).click();
  await p.getByRole('button', { name: 'Create invite link' }).click();
  const href = await p.getByTestId('invite-link').first().getAttribute('href');

  // The mate's sockets go through a route we can cut.
  const mateContext = await browser.newContext();
  const m = await mateContext.newPage();
  collectErrors(m, 'mate', pageErrors);
  let blocked = false;
  const open: WebSocketRoute[] = [];
  await m.routeWebSocket(/\/live$/, (ws) => {
    if (blocked) {
      ws.close({ code: 1011, reason: 'blocked by the test' });
      return;
    }
    ws.connectToServer();
    open.push(ws);
  });
  const { register } = await import('./helpers');
  await register(m, 'LiveMate');
  await m.goto(href!);
  await hydrated(m);
  await m.getByRole('button', { name: 'Join Live Team' }).click();
  await expect(m.getByTestId('workspace-name')).toHaveText('Live Team');
  // Teammates' expenses are quiet by default; the mate asks to hear of them (settings).
  await hearExpenses(m, teamUrl);

  // Both dashboards freshly loaded: server-rendered, then hydrated and following.
  await p.goto(teamUrl);
  await hydrated(p);
  await expect(p.getByTestId('workspace-name')).toHaveText('Live Team');
  await expect(p.getByTestId('live-status')).toHaveAttribute('data-status', 'live');
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'live');

  // Live: an expense made by the owner appears for the mate, without a reload.
  const delays: number[] = [];
  for (let i = 1; i <= 3; i++) {
    const clicked = await addExpense(p, `${i}.00`, `live ${i}`);
    await expect(m.getByTestId('expense-row').filter({ hasText: `live ${i}` })).toBeVisible({ timeout: 1_000 });
    delays.push(Date.now() - clicked);
  }
  console.log(`write-to-row delay (ms): ${delays.join(', ')}`);

  // The mate's event log lists what arrived, newest first, with stream and seq.
  await m.getByTestId('event-log').locator('summary').click();
  // (Each expense also raised a notification on the mate's own stream, so the two
  // kinds interleave: look for the expense entries, not the very first line.)
  const created = m.getByTestId('event-log-entry').filter({ hasText: 'expense:created' });
  await expect(created).toHaveCount(3);
  await expect(created.first()).toContainText(`ws:${teamUrl.split('/').pop()} #`);
  await expect(m.getByTestId('event-log-entry').filter({ hasText: 'notification:created' })).toHaveCount(3);

  // Each new expense notified the mate (a toast, the unread count); the owner was told
  // the mate joined. Reading acknowledges, in every tab of that user.
  await expect(p.getByTestId('unread-count')).toHaveText('1');
  await expect(m.getByTestId('toast').filter({ hasText: 'LiveOwner added live 3: 3.00 EUR' })).toBeVisible();
  await expect(m.getByTestId('unread-count')).toHaveText('3');
  const m2 = await mateContext.newPage();
  collectErrors(m2, 'mate, 2nd tab', pageErrors);
  await m2.goto(teamUrl);
  await hydrated(m2);
  await expect(m2.getByTestId('unread-count')).toHaveText('3');
  await m.getByTestId('toast').filter({ hasText: 'live 3' }).getByRole('button', { name: 'Mark read' }).click();
  await expect(m.getByTestId('unread-count')).toHaveText('2');
  await expect(m2.getByTestId('unread-count')).toHaveText('2');
  await m2.getByTestId('notification-bell').click();
  await expect(m2.getByTestId('notification')).toHaveCount(3);
  await m2.getByRole('button', { name: 'Mark all read' }).click();
  await expect(m.getByTestId('unread-count')).toHaveCount(0);
  await expect(m2.getByTestId('unread-count')).toHaveCount(0);
  await m2.close();

  // Edit and delete travel too; an earning as well.
  const row = p.getByTestId('expense-row').filter({ hasText: 'live 1' });
  await row.getByRole('link', { name: 'Edit' }).click();
  await p.getByTestId('expense-form').getByLabel('Description').fill('live 1 edited');
  await p.getByTestId('expense-form').getByRole('button', { name: 'Save expense' }).click();
  await expect(m.getByTestId('expense-row').filter({ hasText: 'live 1 edited' })).toBeVisible({ timeout: 1_000 });
  await p.getByTestId('expense-row').filter({ hasText: 'live 2' }).getByRole('button', { name: 'Delete live 2' }).click();
  await expect(m.getByTestId('expense-row').filter({ hasText: 'live 2' })).toHaveCount(0, { timeout: 1_000 });
  const earning = p.getByTestId('earning-form');
  await earning.getByLabel('Amount').fill('120');
  await earning.getByLabel('Hours').fill('2');
  await earning.getByLabel('Notes').fill('live gig');
  await earning.getByRole('button', { name: 'Add earning' }).click();
  await expect(m.getByTestId('earning-row').filter({ hasText: 'live gig' })).toBeVisible({ timeout: 1_000 });

  // Cut the mate's socket: the indicator says polling and changes still arrive.
  blocked = true;
  for (const ws of open) await ws.close({ code: 1011, reason: 'cut by the test' });
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'polling');
  await addExpense(p, '4.00', 'while polling');
  await expect(m.getByTestId('expense-row').filter({ hasText: 'while polling' })).toBeVisible({ timeout: 15_000 });
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'polling');

  // Let it back: live again, and nothing shows twice.
  blocked = false;
  await expect(m.getByTestId('live-status')).toHaveAttribute('data-status', 'live', { timeout: 10_000 });
  await addExpense(p, '5.00', 'back live');
  await expect(m.getByTestId('expense-row').filter({ hasText: 'back live' })).toBeVisible({ timeout: 1_000 });
  await expect(m.getByTestId('expense-row')).toHaveCount(4);
  for (const text of ['live 1 edited', 'live 3', 'while polling', 'back live']) {
    await expect(m.getByTestId('expense-row').filter({ hasText: text })).toHaveCount(1);
  }

  // Someone outside the team sees none of it.
  const outsider = await newUserPage(browser, 'LiveOutsider');
  await addExpense(p, '6.00', 'team secret');
  await expect(m.getByTestId('expense-row').filter({ hasText: 'team secret' })).toBeVisible({ timeout: 1_000 });
  await expect(outsider.page.getByText('team secret')).toHaveCount(0);
  await outsider.page.goto(teamUrl);
  await expect(outsider.page.getByRole('heading', { name: 'Workspace not found' })).toBeVisible();

  // The owner removes the mate while the mate's dashboard is open: the mate's page says
  // so at once and leaves the workspace.
  await p.getByRole('link', { name: 'Team', exact: true }).click();
  await p.getByRole('button', { name: 'Remove LiveMate' }).click();
  await expect(m.getByTestId('workspace-lost')).toHaveText('You were removed from Live Team', { timeout: 2_000 });
  // The lists are hidden with everything else of the workspace.
  await expect(m.getByTestId('expense-list')).toBeHidden();
  await expect(m.getByTestId('toast').filter({ hasText: 'You were removed from Live Team' })).toBeVisible();
  await expect(p.getByTestId('member-row')).toHaveCount(1);

  expect(pageErrors).toEqual([]);
  await owner.context.close();
  await mateContext.close();
  await outsider.context.close();
});
