// Debian's chromium for the browser tests (never a downloaded browser): headless, WebGPU on
// SwiftShader. Without it the tests are skipped locally and fail under CI=true.
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run; throws under CI, where chromium must be installed. */
export function haveChromium() {
  const have = existsSync(CHROMIUM);
  if (!have && process.env.CI) throw new Error(`browser tests need ${CHROMIUM} (tools/setup.sh installs it)`);
  if (!have) console.warn(`browser tests skipped: ${CHROMIUM} not found`);
  return have;
}

/** Launches it through playwright-core's `chromium` (passed in: tools/ has no dependencies). */
export function launchChromium(chromium) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--disable-gpu-sandbox',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}
