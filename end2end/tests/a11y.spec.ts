import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { hydrated, team } from './helpers';

// Issue 15, point 7: axe-core on every page, light and dark, with no serious or critical
// violation (WCAG 2.1 A and AA rules), and one <h1> per page.

async function check(page: Page, where: string) {
  await expect(page.locator('h1'), `${where}: one <h1>`).toHaveCount(1);
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
  expect(bad, `${where}: axe violations`).toEqual([]);
  return results.passes.length;
}

test('every page passes axe-core without serious or critical violations, light and dark', async ({ browser }) => {
  test.setTimeout(120_000);
  const { p, m, teamUrl } = await team(browser, 'Axe');
  const invite = await (async () => {
    await p.goto(`${teamUrl}/team`);
    await p.getByRole('button', { name: 'Create invite link' }).click();
    return p.getByTestId('invite-link').first().getAttribute('href');
  })();
  const anonymous = await browser.newContext();
  const a = await anonymous.newPage();
  const passes: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    for (const page of [p, m, a]) await page.emulateMedia({ colorScheme: scheme });
    for (const path of ['', '/team', '/goals', '/settings']) {
      await p.goto(`${teamUrl}${path}`);
      await hydrated(p);
      passes.push(`${scheme} ${path || 'dashboard'}: ${await check(p, `${scheme} ${path || 'dashboard'}`)}`);
    }
    await p.goto('/account');
    passes.push(`${scheme} account: ${await check(p, `${scheme} account`)}`);
    // The notification centre, open.
    await m.goto(teamUrl);
    await hydrated(m);
    await m.getByTestId('notification-bell').click();
    passes.push(`${scheme} notifications open: ${await check(m, `${scheme} notifications`)}`);
    for (const path of ['/login', '/register', invite!]) {
      await a.goto(path);
      passes.push(`${scheme} ${path}: ${await check(a, `${scheme} ${path}`)}`);
    }
  }
  console.log(`axe rules passed per page: ${passes.join('; ')}`);
  await anonymous.close();
});
