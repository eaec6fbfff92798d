// Runs one plan of steps in Debian's Chromium (headless, a new profile) and
// prints one JSON line with what it saw: the text of each page state asked
// for, the axe-core violations of each state checked (WCAG 2.1 A and AA),
// the elements a Tab walk reached, the screenshots and the final address.
// The plan (a JSON file) says the viewport ("desktop" or "phone") and the
// steps; `node flows.mjs <plan.json>`. Everything is done with the keyboard
// where a step says so ("tabTo": Tab until the control named is focused).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const viewports = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

const browser = await chromium.launch({
  executablePath: process.env.KOERIER_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = { axe: {}, texts: {}, walks: {}, shots: [], console: [], url: '' };
try {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, acceptDownloads: true, locale: plan.locale || 'nl-NL',
    ...(viewports[plan.viewport || 'desktop']),
  });
  // "Without JavaScript": no script file of the site loads, so every page
  // is what a browser without JavaScript gets (the checks themselves still
  // run, which JavaScript switched off in the browser would not allow).
  if (plan.javascript === false) await context.route('**/*.js', (route) => route.abort());
  const page = await context.newPage();
  const blocked = (text) => plan.javascript === false && text.startsWith('Failed to load resource');
  // A missing file is named by the response below; the console says only
  // that one failed. Other refusals (409, 422…) are the upload protocol's
  // answers, which the page's script acts on; a server error is an error.
  const said = (text) => blocked(text) || /status of 4\d\d/.test(text);
  page.on('console', (m) => { if (m.type() === 'error' && !said(m.text())) seen.console.push(m.text()); });
  page.on('pageerror', (e) => seen.console.push(String(e)));
  page.on('response', (r) => {
    if (r.status() === 404 && r.request().resourceType() !== 'document') seen.console.push(`404 ${r.url()}`);
  });
  for (const step of plan.steps) {
    await run(page, step);
  }
  seen.url = page.url();
} catch (e) {
  seen.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));

/// The accessible name of the focused element, as a person with a screen
/// reader would hear it (enough of it to find a control by).
async function focusedName(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '';
    const label = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`) : null;
    const text = el.getAttribute('aria-label') || (label && label.textContent) || el.textContent || el.value || '';
    return `${el.tagName.toLowerCase()}:${text.replace(/\s+/g, ' ').trim()}`;
  });
}

async function tabTo(page, name, max = 80) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const now = await focusedName(page);
    if (now.toLowerCase().includes(name.toLowerCase())) return now;
  }
  throw new Error(`Tab never reached "${name}"`);
}

async function run(page, step) {
  if (step.goto) {
    await page.goto(step.goto);
  } else if (step.axe) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }));
    seen.axe[step.axe] = result.violations.map((v) => ({
      id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  } else if (step.shot) {
    const file = path.join(plan.out, `${step.shot}.png`);
    await page.screenshot({ path: file, fullPage: true });
    seen.shots.push(file);
  } else if (step.text) {
    seen.texts[step.text] = (await page.textContent('main')) || '';
  } else if (step.tabTo) {
    await tabTo(page, step.tabTo);
  } else if (step.type !== undefined) {
    await page.keyboard.type(step.type);
  } else if (step.key) {
    await page.keyboard.press(step.key);
  } else if (step.chooseFiles) {
    // The control opens the file chooser from the keyboard (Enter).
    const chooser = page.waitForEvent('filechooser');
    await tabTo(page, step.chooseFiles.control);
    await page.keyboard.press('Enter');
    await (await chooser).setFiles(step.chooseFiles.paths);
  } else if (step.download) {
    // A link that downloads, followed from the keyboard; the file kept.
    const waiting = page.waitForEvent('download');
    await tabTo(page, step.download.control);
    await page.keyboard.press('Enter');
    const download = await waiting;
    await download.saveAs(step.download.save);
    seen.downloads = { ...(seen.downloads || {}), [step.download.save]: download.suggestedFilename() };
  } else if (step.setFiles) {
    await page.setInputFiles(step.setFiles.selector, step.setFiles.paths);
  } else if (step.waitUrl) {
    await page.waitForURL((u) => u.href.includes(step.waitUrl), { timeout: step.timeout || 120000 });
  } else if (step.waitText) {
    await page.waitForFunction((t) => document.body.innerText.includes(t), step.waitText,
      { timeout: step.timeout || 120000 });
  } else if (step.waitSelector) {
    await page.waitForSelector(step.waitSelector, { timeout: step.timeout || 120000 });
  } else if (step.walk) {
    // Tab from the top through the whole page: what is reached, in order,
    // and whether each shows a focus indicator.
    // Tab order starts where focus was: put a starting point before everything.
    await page.evaluate(() => {
      const start = document.createElement('span');
      start.tabIndex = -1;
      document.body.prepend(start);
      start.focus();
    });
    const reached = [];
    for (let i = 0; i < step.walk; i += 1) {
      await page.keyboard.press('Tab');
      const name = await focusedName(page);
      const outlined = await page.evaluate(() => {
        const s = getComputedStyle(document.activeElement);
        return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
      });
      // Past the last control focus leaves the page (or comes round again).
      if (name === '' || (reached.length && reached[0].name === name)) break;
      reached.push({ name, outlined });
    }
    seen.walks[step.name || 'walk'] = reached;
  } else if (step.click) {
    await page.getByRole(step.click.role, { name: step.click.name, exact: false }).first().click();
  } else if (step.fill) {
    await page.getByLabel(step.fill.label, { exact: false }).first().fill(step.fill.value);
  } else if (step.sleep) {
    await page.waitForTimeout(step.sleep);
  } else {
    throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}
