import { existsSync } from 'node:fs';

// The browser tests drive the system's Chromium (Debian's `chromium` package; .ci/run installs it):
// nothing is downloaded. Without one they are skipped on a workstation, and fail under CI=true.
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const chromiumPath: string | undefined = CANDIDATES.find((path): path is string => path !== undefined && path !== '' && existsSync(path));

export const browserRequired = process.env.CI === 'true';

export function noBrowserMessage(): string {
  return `no Chromium found (looked at ${CANDIDATES.filter(Boolean).join(', ')}); CI=true needs one: apt-get install -y chromium, or set CHROMIUM_PATH`;
}
