// BugDash's web dashboard driven in a real headless Chromium, as a user and as an admin
// would use it. Run by tests/tests/e2e/browser.rs (the journey) and by scripts/screenshots
// (MODE=screenshots), never by hand-installed browsers: Playwright only drives the
// Chromium named by CHROMIUM.
//
// Environment:
//   BASE_URL      the service, http://127.0.0.1:PORT
//   CHROMIUM      the Chromium binary
//   DRIVER_DIR    a folder whose node_modules holds playwright-core (the script lives in the
//                 clone, the driver in a cache folder outside it, so it is loaded by path)
//   ADMIN_EMAIL, PASSWORD          an admin account
//   USER_EMAIL                     a user account with the same password (journey only)
//   MODE          "journey" (default) or "screenshots"
//   SCREENSHOT_DIR                 where screenshots go (screenshots only)
//
// Every request that is not to BASE_URL's origin is aborted, and the journey fails if a
// page tried one: the dashboard must work with no network but the service.
//
// The selectors are a fixed contract with the pages (data-testid, form ids and field
// names). Pages are rendered on the server, so after a navigation has loaded every
// element is there: the checks count elements at once rather than wait for them, and a
// failure names what the page did carry.
//
// Prints one line per step and closes with "N passed, N failed"; exits 1 when a step
// failed, 2 when the environment is incomplete.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const env = (name, { optional = false } = {}) => {
  const value = process.env[name];
  if (!value && !optional) {
    console.error(`error: the environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const BASE_URL = env('BASE_URL').replace(/\/$/, '');
const ORIGIN = new URL(BASE_URL).origin;
const MODE = env('MODE', { optional: true }) || 'journey';

// The columns of the areas CSV, as core's service::csv writes them.
const AREAS_CSV_HEADER =
  'area,risk,level,bugs,open,resolved,forecast_expected,forecast_low,forecast_high,' +
  'decayed_bugs,open_load,inflow_recent,inflow_previous,reopen_rate,' +
  'resolution_days_median,top_factors';

// How long a navigation or click may take before the step fails; generous for a
// debug build on a loaded machine. Nothing is asserted about speed.
const WAIT_MS = 30_000;

function loadPlaywright() {
  const dir = env('DRIVER_DIR');
  try {
    return createRequire(path.join(path.resolve(dir), 'package.json'))('playwright-core');
  } catch (error) {
    console.error(`error: no playwright-core under ${dir}/node_modules (${error.message});`);
    console.error('       scripts/services.sh ensure_browser_driver installs it');
    process.exit(2);
  }
}

// Launch options fixed for CI: no sandbox (root in a container), nothing that phones home.
async function launch() {
  const { chromium } = loadPlaywright();
  return chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-default-apps',
      '--metrics-recording-only',
    ],
  });
}

// ---------------------------------------------------------------------------------------
// A browser context that records what the journey must not see: requests to other
// origins, console errors, uncaught exceptions and Content-Security-Policy violations.

class Watched {
  constructor(browser, label) {
    this.browser = browser;
    this.label = label;
    this.offsite = [];
    // Each distinct error once, with how often it came: a fault of the page layout repeats
    // on every page.
    this.errors = new Map();
    // "Failed to load resource" errors of pages answered with an error status on purpose
    // (a wrong password, a forbidden page): their paths, while such a step runs.
    this.expectedFailures = new Set();
  }

  async open(viewport = { width: 1280, height: 800 }) {
    this.context = await this.browser.newContext({
      viewport,
      acceptDownloads: true,
      serviceWorkers: 'block',
    });
    this.context.setDefaultTimeout(WAIT_MS);
    this.context.setDefaultNavigationTimeout(WAIT_MS);
    await this.context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === ORIGIN) {
        return route.continue();
      }
      this.offsite.push(url);
      return route.abort('blockedbyclient');
    });
    // Runs before the page's own scripts and outside its CSP, so that violations of
    // report-only policies and of inline markup are seen too.
    await this.context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(
          `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`,
        );
      });
    });
    this.page = await this.context.newPage();
    this.page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      const where = message.location()?.url || '';
      if (text.startsWith('Failed to load resource') && where) {
        if (this.expectedFailures.has(new URL(where).pathname)) return;
      }
      this.record(`console error at ${where || 'an init script'}: ${text}`);
    });
    this.page.on('pageerror', (error) => {
      this.record(`uncaught exception: ${error.message}`);
    });
    return this.page;
  }

  record(problem) {
    const text = `${this.label}: ${problem.length > 300 ? `${problem.slice(0, 300)}…` : problem}`;
    this.errors.set(text, (this.errors.get(text) || 0) + 1);
  }

  problems() {
    return [...this.errors].map(([text, times]) => (times > 1 ? `${text} (${times} times)` : text));
  }

  async expectingErrorStatus(paths, action) {
    paths.forEach((p) => this.expectedFailures.add(p));
    try {
      return await action();
    } finally {
      paths.forEach((p) => this.expectedFailures.delete(p));
    }
  }

  async close() {
    await this.context?.close();
  }
}

// ---------------------------------------------------------------------------------------
// Checks.

class StepFailure extends Error {}

function fail(message) {
  throw new StepFailure(message);
}

function check(condition, message) {
  if (!condition) fail(message);
}

// The data-testid values a page carries, to say what it had instead.
async function testIds(page) {
  const ids = await page.$$eval('[data-testid]', (nodes) =>
    nodes.map((node) => node.getAttribute('data-testid')),
  );
  return [...new Set(ids)].join(', ') || 'none';
}

async function count(page, selector) {
  return page.locator(selector).count();
}

async function mustHave(page, selector, { min = 1, what = selector } = {}) {
  const found = await count(page, selector);
  if (found < min) {
    fail(
      `${what}: expected at least ${min} of \`${selector}\` on ${page.url()}, found ${found}` +
        ` (the page's data-testids: ${await testIds(page)})`,
    );
  }
  return found;
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

// Waits for the document that `action` navigates to, including one at the same URL (a
// form re-rendered with an error).
async function navigate(page, action) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    action(),
  ]);
  return response;
}

async function goto(page, url) {
  return page.goto(new URL(url, BASE_URL).href, { waitUntil: 'load' });
}

async function submitLogin(page, email, password) {
  await mustHave(page, 'form#login-form', { what: 'the login form' });
  await page.fill('form#login-form [name=email]', email);
  await page.fill('form#login-form [name=password]', password);
  return navigate(page, () =>
    page.locator('form#login-form [type=submit]').first().click(),
  );
}

async function logIn(page, email, password) {
  await goto(page, '/login');
  await submitLogin(page, email, password);
  check(pathOf(page) !== '/login', `logging in as ${email} stayed on ${page.url()}`);
}

// A chart has drawn content: a line (path or polyline) with at least two points that
// spans more than 200 px on screen.
async function chartDrawn(page, figure) {
  const selector = `figure[data-testid=${figure}] svg`;
  await mustHave(page, selector, { what: `the chart ${figure}` });
  const lines = await page.$$eval(`${selector} path, ${selector} polyline`, (nodes) =>
    nodes.map((node) => {
      const data = node.getAttribute('d') || node.getAttribute('points') || '';
      const numbers = data.match(/-?\d+(\.\d+)?/g) || [];
      return { points: Math.floor(numbers.length / 2), width: node.getBoundingClientRect().width };
    }),
  );
  const drawn = lines.filter((line) => line.points >= 2 && line.width > 200);
  check(
    drawn.length > 0,
    `the chart ${figure} has no path or polyline of 2+ points wider than 200 px ` +
      `(found ${JSON.stringify(lines.slice(0, 8))})`,
  );
}

async function tableText(page, selector) {
  return page.locator(selector).innerText();
}

// ---------------------------------------------------------------------------------------
// The journey, in the order a person would go; steps carry the numbers of the contract.

function runner() {
  const results = [];
  return {
    results,
    async step(name, body) {
      try {
        const note = await body();
        results.push({ name, ok: true });
        console.log(`ok      ${name}${note ? ` (${note})` : ''}`);
      } catch (error) {
        results.push({ name, ok: false });
        const detail = error instanceof StepFailure ? error.message : error.stack || error;
        console.log(`FAILED  ${name}\n        ${String(detail).replace(/\n/g, '\n        ')}`);
      }
    },
  };
}

async function userJourney(browser, { step }, state) {
  const user = new Watched(browser, 'user');
  const page = await user.open();
  const email = env('USER_EMAIL');
  const password = env('PASSWORD');

  await step('1. / leads to /login; a wrong password shows login-error', async () => {
    await goto(page, '/');
    check(pathOf(page) === '/login', `/ ended on ${page.url()}, not /login`);
    await user.expectingErrorStatus(['/login'], () =>
      submitLogin(page, email, `${password} but wrong`),
    );
    await mustHave(page, '[data-testid=login-error]', { what: 'the login error' });
    check(
      await page.locator('[data-testid=login-error]').first().isVisible(),
      'the login error is not visible',
    );
  });

  await step('2. logging in lands on /projects listing ZOOKEEPER', async () => {
    await goto(page, '/login');
    await submitLogin(page, email, password);
    check(pathOf(page) === '/projects', `logging in ended on ${page.url()}, not /projects`);
    await mustHave(page, 'table[data-testid=projects-table] tr[data-project=ZOOKEEPER]', {
      what: 'the ZOOKEEPER row',
    });
  });

  await step('3. the ZOOKEEPER page has risk table, charts, insights, backtest', async () => {
    await goto(page, '/projects');
    const link = 'table[data-testid=projects-table] tr[data-project=ZOOKEEPER] a';
    await mustHave(page, link, { what: 'a link to ZOOKEEPER' });
    await navigate(page, () => page.locator(link).first().click());
    state.projectUrl = page.url();
    await mustHave(page, 'table[data-testid=risk-table] tr[data-area]', {
      min: 3,
      what: 'the risk table rows',
    });
    await chartDrawn(page, 'chart-trend');
    await chartDrawn(page, 'chart-backlog');
    await mustHave(page, '[data-testid=insights]', { what: 'the insights' });
    const insights = (await page.locator('[data-testid=insights]').first().innerText()).trim();
    check(insights.length > 0, 'the insights are empty');
    await mustHave(page, '[data-testid=backtest]', { what: 'the backtest' });
  });

  await step('4. a filter goes into the URL, applies, and survives a reload', async () => {
    check(state.projectUrl, 'no project page to filter (step 3 failed)');
    await goto(page, state.projectUrl);
    const form = 'form[data-testid=filters]';
    await mustHave(page, form, { what: 'the filter form' });
    const before = await tableText(page, 'table[data-testid=risk-table]');
    const { name, value } = await chooseFilter(page, form);
    await navigate(page, () => page.$eval(form, (f) => f.requestSubmit()));
    const url = new URL(page.url());
    check(
      url.searchParams.get(name) === value,
      `after filtering ${name}=${value} the URL is ${page.url()}`,
    );
    const after = await tableText(page, 'table[data-testid=risk-table]');
    const shown = await page.$eval(`${form} [name=${name}]`, (field) => field.value);
    check(
      after !== before || shown === value,
      `filtering ${name}=${value} changed neither the risk table nor the form (shows ${shown})`,
    );
    await page.reload({ waitUntil: 'load' });
    const reloaded = await tableText(page, 'table[data-testid=risk-table]');
    const shownAgain = await page.$eval(`${form} [name=${name}]`, (field) => field.value);
    check(reloaded === after, `reloading ${page.url()} gave another risk table`);
    check(shownAgain === shown, `reloading shows ${name}=${shownAgain}, not ${shown}`);
    return `${name}=${value}: risk table ${after === before ? 'unchanged' : 'changed'}`;
  });

  await step('5. drilling down lists issues linking to JIRA /browse/KEY', async () => {
    check(state.projectUrl, 'no project page (step 3 failed)');
    await goto(page, state.projectUrl);
    await mustHave(page, 'a[data-testid=drill]', { what: 'a drill-down link' });
    await navigate(page, () => page.locator('a[data-testid=drill]').first().click());
    state.issuesUrl = page.url();
    await mustHave(page, 'table[data-testid=issues-table] tbody tr', { what: 'issue rows' });
    const [table, room] = await page.$eval('table[data-testid=issues-table]', (node) => [
      node.getBoundingClientRect().width,
      node.parentElement.clientWidth,
    ]);
    check(table <= room + 1, `the issue list is ${table} px wide in ${room} px`);
    await mustHave(page, 'a[data-testid=jira-link]', { what: 'JIRA links' });
    const hrefs = await page.$$eval('a[data-testid=jira-link]', (links) =>
      links.map((link) => link.href),
    );
    const wrong = hrefs.filter((href) => !/\/browse\/[A-Z][A-Z0-9_]*-\d+$/.test(href));
    check(wrong.length === 0, `JIRA links not to /browse/KEY: ${wrong.slice(0, 5).join(' ')}`);
    const back = page.locator('a', { hasText: 'Back to the analysis' }).first();
    await navigate(page, () => back.click());
    check(
      page.url() === state.projectUrl,
      `"Back to the analysis" led to ${page.url()}, not ${state.projectUrl}`,
    );
  });

  await step('6. the areas CSV export has the right header', async () => {
    check(state.projectUrl, 'no project page (step 3 failed)');
    await goto(page, state.projectUrl);
    const link = 'a[data-testid=export-areas-csv]';
    await mustHave(page, link, { what: 'the areas CSV link' });
    const href = await page.locator(link).first().evaluate((a) => a.href);
    check(new URL(href).origin === ORIGIN, `the CSV link leaves the service: ${href}`);
    const csv = await page.evaluate(async (url) => {
      const response = await fetch(url, { credentials: 'same-origin' });
      return {
        status: response.status,
        type: response.headers.get('content-type') || '',
        text: await response.text(),
      };
    }, href);
    check(csv.status === 200, `GET ${href} answered ${csv.status}`);
    check(csv.type.startsWith('text/csv'), `GET ${href} is ${csv.type}, not text/csv`);
    const [header, ...rows] = csv.text.split(/\r?\n/).filter((line) => line.length > 0);
    check(header === AREAS_CSV_HEADER, `the CSV header is\n${header}\nnot\n${AREAS_CSV_HEADER}`);
    check(rows.length >= 3, `the CSV has ${rows.length} areas`);
  });

  await step('9. a user sees no admin link, and /admin is forbidden', async () => {
    await goto(page, '/projects');
    check(pathOf(page) === '/projects', `the user is not signed in (on ${page.url()})`);
    const links = await count(page, '[data-testid=nav-admin]');
    check(links === 0, `the user's page has ${links} nav-admin`);
    const response = await user.expectingErrorStatus(['/admin'], () => goto(page, '/admin'));
    check(response.status() === 403, `/admin answered the user ${response.status()}`);
    await mustHave(page, '[data-testid=forbidden]', { what: 'the forbidden notice' });
  });

  await step('8. logging out returns to /login and /projects asks to log in', async () => {
    await goto(page, '/projects');
    await mustHave(page, 'form[data-testid=logout]', { what: 'the logout form' });
    await navigate(page, () => page.$eval('form[data-testid=logout]', (f) => f.requestSubmit()));
    check(pathOf(page) === '/login', `logging out ended on ${page.url()}`);
    await goto(page, '/projects');
    check(pathOf(page) === '/login', `/projects after logout shows ${page.url()}`);
  });

  await user.close();
  return user;
}

// The first filter field the form has, set to another value than its current one: a
// select gets its next option, a text field a priority name.
async function chooseFilter(page, form) {
  for (const name of ['priority', 'period']) {
    const field = `${form} [name=${name}]`;
    if ((await count(page, field)) === 0) continue;
    const choice = await page.$eval(field, (element) => {
      if (element.tagName === 'SELECT') {
        const other = [...element.options].find(
          (option) => option.value !== '' && option.value !== element.value,
        );
        if (other) element.value = other.value;
        return other ? other.value : null;
      }
      element.value = element.name === 'priority' ? 'Major' : 'month';
      return element.value;
    });
    if (choice !== null) return { name, value: choice };
  }
  fail(`the filter form has no priority or period field to change (${await testIds(page)})`);
}

async function adminJourney(browser, { step }) {
  const admin = new Watched(browser, 'admin');
  const page = await admin.open();

  await step('10. an admin sees nav-admin, usage, users and sync pages', async () => {
    await logIn(page, env('ADMIN_EMAIL'), env('PASSWORD'));
    await mustHave(page, '[data-testid=nav-admin]', { what: 'the admin link' });
    await goto(page, '/admin');
    await mustHave(page, 'figure[data-testid=usage-chart] svg', { what: 'the usage chart' });
    await goto(page, '/admin/users');
    await mustHave(page, 'table[data-testid=users-table]', { what: 'the users table' });
    await goto(page, '/admin/sync');
    await mustHave(page, 'table[data-testid=sync-table]', { what: 'the sync table' });
  });

  await admin.close();
  return admin;
}

// Fails when the page is wider than a 390 px phone, naming what sticks out.
async function fitsTheScreen(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 391) {
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((node) => node.getBoundingClientRect().right > 391)
        .slice(0, 5)
        .map((node) => {
          const id = node.getAttribute('data-testid') || node.id || node.getAttribute('class');
          return `${node.tagName.toLowerCase()}(${id})`;
        }),
    );
    fail(`${page.url()} is ${width} px wide at 390 px; wider elements: ${wide.join(' ')}`);
  }
}

async function phoneJourney(browser, { step }, state) {
  const phone = new Watched(browser, 'phone');
  const page = await phone.open({ width: 390, height: 844 });

  await step('11. at 390 px the project page does not scroll sideways', async () => {
    check(state.projectUrl, 'no project page (step 3 failed)');
    await logIn(page, env('USER_EMAIL'), env('PASSWORD'));
    await goto(page, state.projectUrl);
    await fitsTheScreen(page);
  });

  await step('12. at 390 px the answer comes before the filter form', async () => {
    check(state.projectUrl, 'no project page (step 3 failed)');
    await goto(page, state.projectUrl);
    const top = (selector) =>
      page.locator(selector).first().evaluate((node) => node.getBoundingClientRect().top);
    const table = await top('table[data-testid=risk-table]');
    const figures = await top('section.figures');
    const form = await top('form[data-testid=filters]');
    check(
      figures < form && table < form,
      `the headline numbers (${figures} px) and the risk table (${table} px) start below ` +
        `the filter form (${form} px)`,
    );
    check(figures < 844, `the headline numbers start at ${figures} px, below the first screen`);
  });

  await step('13. at 390 px the tables are cards, not sideways scrollers', async () => {
    check(state.issuesUrl, 'no issue list (step 5 failed)');
    const pages = [
      [state.projectUrl, 'table[data-testid=risk-table]'],
      [new URL('/projects', BASE_URL).href, 'table[data-testid=projects-table]'],
      [state.issuesUrl, 'table[data-testid=issues-table]'],
    ];
    for (const [url, table] of pages) {
      await goto(page, url);
      await mustHave(page, table, { what: `the table of ${url}` });
      await fitsTheScreen(page);
      const widths = await page.$$eval(`${table}, ${table} tr`, (nodes) =>
        nodes.map((node) => Math.round(node.scrollWidth)),
      );
      const widest = Math.max(...widths);
      check(widest <= 390, `${table} on ${url} is ${widest} px wide at 390 px`);
    }
  });

  await phone.close();
  return phone;
}

async function journey(browser) {
  const run = runner();
  const state = {};
  const watched = [
    await userJourney(browser, run, state),
    await adminJourney(browser, run),
    await phoneJourney(browser, run, state),
  ];

  await run.step('7. no console errors, exceptions or CSP violations', async () => {
    const errors = watched.flatMap((w) => w.problems());
    check(errors.length === 0, errors.join('\n'));
  });
  await run.step('the pages load nothing from other origins', async () => {
    const offsite = watched.flatMap((w) => w.offsite);
    check(offsite.length === 0, `requests blocked: ${offsite.join(' ')}`);
  });

  const failed = run.results.filter((r) => !r.ok).length;
  console.log(`${run.results.length - failed} passed, ${failed} failed`);
  return failed === 0;
}

// ---------------------------------------------------------------------------------------
// Screenshots of the main pages for the documentation, as the demo admin.

async function screenshots(browser) {
  const dir = env('SCREENSHOT_DIR');
  mkdirSync(dir, { recursive: true });
  const shot = async (page, name) => {
    const file = path.join(dir, `${name}.png`);
    await page.screenshot({ path: file, animations: 'disabled' });
    console.log(`saved ${file}`);
  };

  const desk = new Watched(browser, 'desktop');
  let page = await desk.open();
  await goto(page, '/login');
  await shot(page, 'login');
  await submitLogin(page, env('ADMIN_EMAIL'), env('PASSWORD'));
  await goto(page, '/projects');
  await shot(page, 'projects');
  const link = 'table[data-testid=projects-table] tr[data-project=ZOOKEEPER] a';
  await mustHave(page, link, { what: 'a link to ZOOKEEPER' });
  await navigate(page, () => page.locator(link).first().click());
  const projectUrl = page.url();
  await shot(page, 'project-zookeeper');
  await mustHave(page, 'a[data-testid=drill]', { what: 'a drill-down link' });
  await navigate(page, () => page.locator('a[data-testid=drill]').first().click());
  await shot(page, 'issues');
  // The service writes usage events in batches every two seconds; waiting a little longer
  // lets the usage page show the visits above instead of an empty day.
  await page.waitForTimeout(3000);
  await goto(page, '/admin');
  await shot(page, 'admin-usage');
  await desk.close();

  const phone = new Watched(browser, 'phone');
  page = await phone.open({ width: 390, height: 844 });
  await logIn(page, env('ADMIN_EMAIL'), env('PASSWORD'));
  await goto(page, projectUrl);
  await shot(page, 'project-zookeeper-phone');
  await phone.close();

  const problems = [desk, phone].flatMap((w) => [...w.problems(), ...w.offsite]);
  problems.forEach((problem) => console.log(`warning: ${problem}`));
  return true;
}

// ---------------------------------------------------------------------------------------

const browser = await launch();
let ok = false;
try {
  ok = MODE === 'screenshots' ? await screenshots(browser) : await journey(browser);
} catch (error) {
  console.error(error instanceof StepFailure ? `error: ${error.message}` : error);
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
