import { defineConfig } from '@playwright/test';
import * as path from 'node:path';
import base from './playwright.config';
import { freePort } from './free-port';

// The same browsers and settings as playwright.config.ts, against a cluster: three
// instances on PostgreSQL behind nginx (scripts/cluster.sh), round robin with no sticky
// sessions, so a page, its server functions and its live socket meet different
// instances. The specs listed here run unchanged.
const port = freePort('E2E_CLUSTER_PORT');
const root = path.resolve(__dirname, '..');
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  ...base,
  testMatch: ['live.spec.ts', 'accounts.spec.ts'],
  use: { ...base.use, baseURL },
  webServer: {
    command: `exec "${root}/scripts/cluster.sh" 3`,
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    // SIGTERM lets the script stop its instances and nginx and drop its database.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
    env: {
      CLUSTER_PORT: port,
      JWT_SECRET: 'end2end-secret-end2end-secret-end2end-secret',
      RUST_LOG: 'warn',
      // Every test signs up its own users, all from 127.0.0.1.
      SIGNUP_LIMIT_PER_ADDRESS: '100000',
    },
  },
});
