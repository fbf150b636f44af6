import { defineConfig } from '@playwright/test';
import * as path from 'node:path';
import { freePort } from './free-port';

const port = freePort('E2E_PORT');
const root = path.resolve(__dirname, '..');
const dataDir = path.join(__dirname, '.tmp', `data-${port}`);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
    },
  },
  // The release build, served by the real server on a fresh SQLite database.
  webServer: {
    command: `rm -rf "${dataDir}" && mkdir -p "${dataDir}" && exec "${root}/target/release/server"`,
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      LIVELEDGER_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
      DATA_DIR: dataDir,
      JWT_SECRET: 'end2end-secret-end2end-secret-end2end-secret',
      RUST_LOG: 'warn',
      // Every test signs up its own users, all from 127.0.0.1.
      SIGNUP_LIMIT_PER_ADDRESS: '100000',
    },
  },
});
