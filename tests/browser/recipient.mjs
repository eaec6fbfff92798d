// Opens a recipient's link in headless Chromium, types the SMS code,
// downloads the first document and takes a screenshot of the download page in
// both languages. Playwright starts Chromium with a new, empty profile. Prints one JSON line: the page texts, the downloaded file
// and the screenshots. Usage: node recipient.mjs <link> <code> <out-dir>
import { chromium } from 'playwright-core';
import path from 'node:path';

const [link, code, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.KOERIER_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(link);
  const codePage = await page.textContent('main');
  const codeLabel = await page.textContent('label[for=code]');
  await page.getByLabel(codeLabel.trim()).fill(code);
  await page.locator('form[action$="/code"] button[type=submit]').click();
  await page.waitForSelector('table');
  const firstLang = await page.getAttribute('html', 'lang');
  const shotFirst = path.join(out, `download-${firstLang}.png`);
  await page.screenshot({ path: shotFirst, fullPage: true });
  const downloadPage = await page.textContent('main');
  const pending = page.waitForEvent('download');
  await page.locator('table a.button').first().click();
  const download = await pending;
  const file = path.join(out, download.suggestedFilename());
  await download.saveAs(file);
  await page.locator('nav a').click();
  await page.waitForSelector('table');
  const otherLang = await page.getAttribute('html', 'lang');
  const shotOther = path.join(out, `download-${otherLang}.png`);
  await page.screenshot({ path: shotOther, fullPage: true });
  const otherPage = await page.textContent('main');
  console.log(JSON.stringify({
    codePage, downloadPage, otherPage, file, suggested: download.suggestedFilename(),
    screenshots: { [firstLang]: shotFirst, [otherLang]: shotOther },
  }));
} finally {
  await browser.close();
}
