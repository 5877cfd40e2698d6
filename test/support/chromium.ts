// The one way this project starts a browser: Debian's Chromium (never a downloaded one) with the
// flags this closed network needs (background networking off, or Chromium keeps dialling out).
// Spread into playwright-core's launch options: `chromium.launch({ ...CHROMIUM_LAUNCH })`.
export const CHROMIUM_LAUNCH = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
} as const satisfies { executablePath: string; headless: boolean; args: readonly string[] };
