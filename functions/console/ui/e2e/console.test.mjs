// End-to-end: Debian's Chromium, driven by playwright-core, against the real local server and
// Hive sandbox. Screenshots of every page go to e2e/screenshots (not committed); the first
// load's JavaScript size and the dashboard's time to interactive go to e2e/results.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { adminToken, startStack, viewerToken } from './stack.mjs'

const en = JSON.parse(readFileSync(join(import.meta.dirname, '../src/locales/en.json'), 'utf8'))
const zhCN = JSON.parse(readFileSync(join(import.meta.dirname, '../src/locales/zh-CN.json'), 'utf8'))

const shots = join(import.meta.dirname, 'screenshots')
const results = join(import.meta.dirname, 'results')
mkdirSync(shots, { recursive: true })
mkdirSync(results, { recursive: true })

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

let stack, browser

function flatten(tree, out = []) {
  for (const v of Object.values(tree)) typeof v === 'string' ? out.push(v) : flatten(v, out)
  return out
}

before(async () => {
  stack = await startStack()
  browser = await chromium.launch({ executablePath, args: flags, headless: true })
})

after(async () => {
  await browser?.close()
  await stack?.stop()
})

// newPage opens a page that fails the test on any script error or CSP violation.
async function newPage(locale, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, locale: locale === 'zh-CN' ? 'zh-CN' : 'en-US' })
  await context.addInitScript((l) => localStorage.setItem('hivemerge.locale', l), locale)
  const page = await context.newPage()
  page.problems = []
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message))
  // The browser logs every failed request; the API's refusals are part of the tests, and the
  // dashboard asks for the discovery summary, which this server may not offer yet. A console
  // file that fails to load is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.problems.push('console: ' + m.text())
  })
  page.on('response', (r) => {
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/api/')) page.problems.push(`${r.status()} ${r.url()}`)
  })
  return page
}

// confirmBox presses the primary button of the message box on screen.
const confirmBox = (page) => page.locator('.el-message-box__btns .el-button--primary').filter({ visible: true }).click()

// field selects the input of an Element Plus control, which may pass data-test on to it.
const field = (name) => `input[data-test="${name}"], [data-test="${name}"] input`

async function shot(page, name) {
  await page.waitForLoadState('networkidle')
  // Transitions finished: a dialog is shown as it settles, not while it fades in.
  await page.screenshot({ path: join(shots, name + '.png'), fullPage: true, animations: 'disabled' })
}

// shotOf saves one part of a page: the console's main pane scrolls inside the window, so a
// full-page screenshot shows only what the window shows.
async function shotOf(locator, name) {
  await locator.scrollIntoViewIfNeeded()
  await locator.screenshot({ path: join(shots, name + '.png'), animations: 'disabled' })
}

async function signIn(page, token = adminToken) {
  await page.goto(stack.url + '/console/')
  await page.locator(field('token')).fill(token)
  await page.locator('[data-test="sign-in"]').click()
  await page.locator('[data-test="dashboard"]').waitFor()
}

// checkNoEnglish fails when the page shows English text of the catalogue in the Chinese run.
// A task's log messages and SQL are the engine's record, kept as written: they are left out.
async function checkNoEnglish(page, where) {
  const text = await page.evaluate(() => {
    const record = [...document.querySelectorAll('[data-test="log-entry"] .message, [data-test="log-entry"] .sql')]
    for (const e of record) e.style.display = 'none'
    const shown = document.body.innerText
    for (const e of record) e.style.display = ''
    return shown
  })
  const zh = new Set(flatten(zhCN))
  const leaks = flatten(en)
    .filter((s) => !zh.has(s)) // the same in both (ID, SQL, TLS)
    .map((s) => s.replace(/\{\w+\}/g, '').trim())
    // Whole words: "Name" is not in the "NameNode" the Chinese text keeps.
    .filter((s) => s.length >= 3 && new RegExp('(^|[^A-Za-z])' + s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '($|[^A-Za-z])').test(text))
  // Element Plus's own English.
  for (const s of ['No Data', 'Loading', 'Cancel', 'Confirm', 'Select', 'Go to']) if (text.includes(s)) leaks.push(s)
  assert.deepEqual(leaks, [], `English text on the Chinese ${where} page`)
  assert.deepEqual(await untranslatedReasons(page), [], `English reasons on the Chinese ${where} page`)
}

// The reasons, health rules, warnings, planner rules and run summaries the API composes, as the
// console shows them.
const reasons =
  '[data-test="reason"], [data-test="detail-reason"], [data-test="detail-rules"] li, [data-test="preview-warning"], [data-test="strategy-reason"], [data-test="run-summary"]'

// untranslatedReasons are the reasons on the page without Chinese, or with an English word:
// four lower-case letters or more that are not part of a name (safe_merge, NameNode), a
// storage format or a strategy.
async function untranslatedReasons(page) {
  const names = new Set(['text', 'parquet', 'avro', 'rcfile', 'sequencefile', 'auto', 'concatenate'])
  const words = (s) => (s.match(/(?<![\w./=-])[a-z]{4,}(?![\w./=-])/g) ?? []).filter((w) => !names.has(w))
  return (await page.locator(reasons).allInnerTexts())
    .map((s) => s.trim())
    .filter((s) => s && s !== '—' && (!/\p{Script=Han}/u.test(s) || words(s).length > 0))
}

// sayPattern matches what the console shows for a message of code in locale t: its text with
// any value in each placeholder, alone or within a longer text.
function sayPattern(t, code, alone = true) {
  const parts = t.reasons[code].split(/\{\w+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return alone ? new RegExp('^' + parts.join('.+') + '$', 's') : new RegExp(parts.join('.+'), 's')
}

for (const locale of ['en', 'zh-CN']) {
  const t = locale === 'en' ? en : zhCN
  describe(`console (${locale})`, () => {
    it('refuses a wrong token with the API 401', async () => {
      const page = await newPage(locale)
      const resp = await page.goto(stack.url + '/console/')
      // The console runs under the server's strict policy: a violation would be logged as an error.
      assert.match(resp.headers()['content-security-policy'], /script-src 'self';/)
      await page.locator(field('token')).fill('not-a-token')
      await page.locator('[data-test="sign-in"]').click()
      await page.locator('[data-test="error"]').waitFor()
      assert.match(await page.locator('[data-test="error"]').innerText(), new RegExp(t.errors.unauthenticated.slice(0, 8)))
      await shot(page, `${locale}-sign-in-refused`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'sign-in')

      // A token that stops working mid-session leads back to the sign-in page, which says so.
      await page.evaluate(() => sessionStorage.setItem('hivemerge.token', 'revoked-token'))
      // Another URL than the page's, so that a new document loads and reads the stored token.
      await page.goto(stack.url + '/console/index.html#/tasks')
      await page.locator('[data-test="expired"]').waitFor()
      assert.match(await page.locator('[data-test="expired"]').innerText(), new RegExp(t.signIn.expired.slice(0, 6)))
      assert.match(decodeURIComponent(page.url()), /next=\/tasks/)
      await page.locator(field('token')).fill(adminToken)
      await page.locator('[data-test="sign-in"]').click()
      await page.locator('[data-test="tasks"]').waitFor()
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it('signs in, shows the dashboard with the real task stats', async () => {
      const { body: stats } = await stack.api('GET', '/api/v1/tasks/stats')
      const page = await newPage(locale)
      const jsBytes = new Map()
      page.on('response', async (r) => {
        if (r.url().endsWith('.js')) jsBytes.set(r.url(), gzipSync(await r.body().catch(() => Buffer.alloc(0))).length)
      })
      await page.goto(stack.url + '/console/')
      await page.locator(field('token')).fill(adminToken)
      await page.locator('[data-test="sign-in"]').click()
      await page.locator('[data-test="status-chart"] canvas').waitFor()
      await page.locator('[data-test="stat-total"]').waitFor()
      assert.match(await page.locator('[data-test="stat-total"]').innerText(), new RegExp(String(stats.total)))
      await shot(page, `${locale}-dashboard`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'dashboard')

      if (locale === 'en') {
        // A fresh load of the dashboard, signed in: first-load JavaScript and time to interactive.
        const fresh = await newPage(locale)
        await fresh.addInitScript((tok) => sessionStorage.setItem('hivemerge.token', tok), adminToken)
        const first = new Map()
        fresh.on('response', async (r) => {
          if (r.url().endsWith('.js')) first.set(r.url(), gzipSync(await r.body().catch(() => Buffer.alloc(0))).length)
        })
        const start = Date.now()
        await fresh.goto(stack.url + '/console/#/dashboard')
        await fresh.locator('[data-test="recent"] .el-table__row, [data-test="recent"] .el-table__empty-text').first().waitFor()
        await fresh.locator('[data-test="status-chart"] canvas').waitFor()
        const tti = Date.now() - start
        await fresh.waitForLoadState('networkidle')
        const all = [...first.entries()]
        // The charts' chunks: the chart components and the ECharts chunk they share.
        const chart = /StatusChart|TrendChart|installCanvasRenderer|echarts/
        const lazy = all.filter(([u]) => chart.test(u))
        const metrics = {
          dashboard_time_to_interactive_ms: tti,
          javascript_gzip_bytes_all: all.reduce((n, [, b]) => n + b, 0),
          javascript_gzip_bytes_before_charts: all.filter(([u]) => !chart.test(u)).reduce((n, [, b]) => n + b, 0),
          javascript_gzip_bytes_charts: lazy.reduce((n, [, b]) => n + b, 0),
          files: Object.fromEntries(all.map(([u, b]) => [u.replace(/.*\/assets\//, ''), b])),
        }
        writeFileSync(join(results, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n')
        console.log('console metrics:', JSON.stringify(metrics))
        await fresh.context().close()
      }
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it('creates a task in the UI, lists it, opens its detail and logs, cancels it', async () => {
      const page = await newPage(locale)
      await signIn(page)
      await page.locator('[data-test="nav-tasks"]').click()
      await page.locator('[data-test="tasks"]').waitFor()
      await page.locator('[data-test="new-task"]').click()
      const dialog = page.locator('[data-test="task-create"]')
      await dialog.waitFor()
      const name = `e2e ${locale} orders`
      await dialog.locator(field('create-name')).fill(name)
      await dialog.locator(field('create-database')).fill('sales')
      await dialog.locator(field('create-table')).fill(locale === 'en' ? 'orders' : 'customers')
      await shot(page, `${locale}-task-create`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'task creation')
      await dialog.locator('[data-test="create-submit"]').click()
      await page.locator('[data-test="task-detail"]').waitFor()
      await page.locator('[data-test="task-status"]').waitFor()
      assert.equal(await page.locator('[data-test="task-status"]').getAttribute('data-status'), 'pending')
      const id = decodeURIComponent(page.url().split('/tasks/')[1])
      await shot(page, `${locale}-task-detail-pending`)

      // The list shows it, filtered by table, and polls while it is active.
      await page.goto(stack.url + '/console/#/tasks?table_name=' + (locale === 'en' ? 'orders' : 'customers'))
      await page.locator('[data-test="task-link"]', { hasText: name }).waitFor()
      assert.match(await page.locator('[data-test="polling"]').innerText(), /3/)
      await shot(page, `${locale}-tasks`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'tasks')

      // Cancel from the list, with confirmation.
      await page.locator('.el-table__row', { hasText: name }).locator('[data-test="cancel"]').first().click()
      await page.locator('.el-message-box').waitFor()
      await shot(page, `${locale}-task-cancel-confirm`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'cancel confirmation')
      await confirmBox(page)
      await page.locator('.el-table__row', { hasText: name }).locator('[data-status="cancelled"]').waitFor()
      assert.equal((await stack.api('GET', '/api/v1/tasks/' + id)).body.status, 'cancelled')
      await page.locator('[data-test="polling"]', { hasText: t.common.autoRefreshOff }).waitFor()

      // The detail shows who cancelled it, and its log with the levels and the search.
      await page.locator('[data-test="task-link"]', { hasText: name }).click()
      await page.locator('[data-test="task-status"][data-status="cancelled"]').waitFor()
      await page.locator('[data-test="logs"]').waitFor()
      await page.locator('[data-test="log-levels"] label').first().click() // show debug too
      await shot(page, `${locale}-task-detail-cancelled`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'task detail')
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it('finds a table, previews its merge, merges it, watches it finish, rolls it back, and shows the scanned warehouse', async () => {
      const page = await newPage(locale)
      await signIn(page)
      await page.locator('[data-test="nav-tables"]').click()
      await page.goto(stack.url + '/console/#/tables?cluster=demo&db=ops')
      const row = page.locator('[data-test="table-list"] .el-table__row', { has: page.locator('[data-test="table-name"]', { hasText: /^audit_log$/ }) })
      await row.first().waitFor({ timeout: 60_000 })
      await shot(page, `${locale}-tables`)
      assert.ok((await page.locator('[data-test="table-list"] [data-test="reason"]').count()) > 0, 'the tables page shows reasons')
      if (locale === 'zh-CN') await checkNoEnglish(page, 'tables')

      // The preview of the table's merge, then create and execute it.
      await row.first().locator('[data-test="merge"]').click()
      const dialog = page.locator('[data-test="merge-dialog"]')
      await dialog.locator('[data-test="preview-files"]').waitFor()
      const [before, predicted] = (await dialog.locator('[data-test="preview-files"]').innerText()).split('→').map((x) => Number(x.replace(/\D/g, '')))
      assert.ok(predicted < before, `the preview predicts ${before} → ${predicted} files`)
      await shot(page, `${locale}-merge-preview`)
      assert.ok((await dialog.locator('[data-test="reason"]').count()) > 1, 'the preview shows its reasons')
      if (locale === 'zh-CN') await checkNoEnglish(page, 'merge preview')
      await dialog.locator('[data-test="merge-start"]').click()
      await page.locator('[data-test="task-detail"]').waitFor()
      const id = decodeURIComponent(page.url().split('/tasks/')[1])
      await page.locator('[data-test="task-status"][data-status="success"]').waitFor({ timeout: 120_000 })
      const done = (await stack.api('GET', '/api/v1/tasks/' + id)).body
      assert.ok(done.statistics.files_after < done.statistics.files_before, JSON.stringify(done.statistics))
      await page.locator('[data-test="statistics"] .el-table__row').first().waitFor()
      await shot(page, `${locale}-task-detail-success`)
      // The planner's rule and the last step, named in the console's language.
      assert.ok(t.rules[done.strategy_reason], `no label for rule ${done.strategy_reason}`)
      // The page polls: wait until it shows the finished task's rule, then compare exactly.
      await page.locator('[data-test="strategy-reason"]', { hasText: t.rules[done.strategy_reason] }).waitFor({ timeout: 10_000 })
      assert.equal(await page.locator('[data-test="strategy-reason"]').innerText(), t.rules[done.strategy_reason])
      assert.equal(done.step, '(table): done')
      await page.locator('[data-test="task-step"]', { hasText: `${t.task.wholeTable}: ${t.steps.done}` }).waitFor({ timeout: 10_000 })
      assert.equal(await page.locator('[data-test="task-step"]').innerText(), `${t.task.wholeTable}: ${t.steps.done}`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'finished task')

      // Roll it back, with confirmation: the partitions point at their original files again.
      await page.locator('[data-test="rollback"]').click()
      await page.locator('.el-message-box').waitFor()
      await confirmBox(page)
      await page.locator('.el-message', { hasText: t.task.rolledBack }).waitFor()
      await shot(page, `${locale}-task-rolled-back`)

      // The dashboard shows the scanned warehouse as the API counts it.
      const { body: summary } = await stack.api('GET', '/api/v1/dashboard/summary')
      await page.locator('[data-test="nav-dashboard"]').click()
      await page.locator('[data-test="warehouse-files"]').waitFor()
      assert.ok(summary.files > 0)
      assert.equal((await page.locator('[data-test="warehouse-files"] .stat-value').innerText()).replace(/\D/g, ''), String(summary.files))
      await page.locator('[data-test="histogram"] canvas').waitFor()
      assert.ok(summary.trend.length > 0)
      await page.locator('[data-test="trend"] [data-test="trend-chart"] canvas').waitFor()
      await shot(page, `${locale}-dashboard-warehouse`)
      await shotOf(page.locator('[data-test="trend"]'), `${locale}-dashboard-trend`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'dashboard')
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it("opens a table's page, scans it now, and previews the merge of chosen partitions", async () => {
      const page = await newPage(locale)
      await signIn(page)
      await page.goto(stack.url + '/console/#/tables?cluster=demo&db=ops')
      const link = page.locator('[data-test="table-list"] [data-test="table-name"]', { hasText: /^metrics$/ })
      await link.first().waitFor({ timeout: 60_000 })
      await link.first().click()
      await page.locator('[data-test="table-detail"]').waitFor()
      assert.match(decodeURIComponent(page.url()), /#\/tables\/demo\/ops\/metrics$/)

      // What the API knows of the table and its partitions, as the page shows it.
      const info = (await stack.api('GET', '/api/v1/tables/demo/ops/metrics/info')).body
      const { partitions } = (await stack.api('GET', '/api/v1/tables/demo/ops/metrics/partitions')).body
      await page.locator('[data-test="partitions"] [data-test="partition-name"]').first().waitFor()
      assert.equal((await page.locator('[data-test="detail-files"]').innerText()).replace(/\D/g, ''), String(info.stats.files))
      assert.match(await page.locator('[data-test="detail-score"]').innerText(), new RegExp(String(info.health.score)))
      assert.match(await page.locator('[data-test="detail-reason"]').innerText(), sayPattern(t, info.recommendation.reason_code))
      assert.equal(await page.locator('[data-test="detail-rules"] li').count(), info.health.rule_messages.length)
      assert.ok(partitions.length > 2)
      assert.equal(await page.locator('[data-test="partitions"] .el-table__body-wrapper [data-test="size-histogram"]').count(), partitions.length)
      await page.locator('[data-test="detail-trend"] canvas').waitFor()
      await shot(page, `${locale}-table-detail`)
      await shotOf(page.locator('[data-test="partitions"]'), `${locale}-table-partitions`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'table detail')

      // Scan now: the page follows the scan to its end, then shows the new scan's figures.
      const before = (await stack.api('GET', '/api/v1/tables/demo/ops/metrics/history')).body.history.length
      await page.locator('[data-test="scan-now"]').click()
      await page.locator('[data-test="scan"]', { hasText: t.detail.scanStatus.succeeded }).waitFor({ timeout: 60_000 })
      await page.locator('.el-message', { hasText: t.detail.scanDone }).waitFor()
      assert.match(await page.locator('[data-test="scan-counts"]').innerText(), new RegExp('^' + info.partitions + '\\D'))
      assert.equal((await stack.api('GET', '/api/v1/tables/demo/ops/metrics/history')).body.history.length, before + 1)
      await shot(page, `${locale}-table-scanned`)

      // Two partitions chosen: the merge's preview covers those two only.
      const rows = page.locator('[data-test="partitions"] .el-table__body-wrapper .el-table__row')
      const names = []
      for (const i of [0, 1]) {
        await rows.nth(i).locator('.el-checkbox').click()
        names.push(await rows.nth(i).locator('[data-test="partition-name"]').innerText())
      }
      await page.locator('[data-test="detail-merge"]', { hasText: '2' }).click()
      const dialog = page.locator('[data-test="merge-dialog"]')
      await dialog.locator('[data-test="preview-files"]').waitFor()
      const chosen = await dialog.locator('[data-test="merge-partitions"]').innerText()
      for (const n of names) assert.ok(chosen.includes(n), `${n} is not among the chosen partitions: ${chosen}`)
      const previewed = dialog.locator('[data-test="preview-partitions"] .el-table__body-wrapper .el-table__row')
      assert.equal(await previewed.count(), 2)
      for (const n of names) assert.ok((await previewed.allInnerTexts()).join('\n').includes(n), `${n} is not in the preview`)
      await shot(page, `${locale}-merge-partitions`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'merge of partitions')
      await page.keyboard.press('Escape')
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it('creates tasks for several tables at once, each with its outcome, and retries a cancelled one', async () => {
      // An active task on ops.events: creating another for the table is a conflict.
      const blocker = await stack.api('POST', '/api/v1/tasks/', { cluster_id: 'demo', task_name: 'e2e blocker ' + locale, database_name: 'ops', table_name: 'events' })
      assert.equal(blocker.status, 201, JSON.stringify(blocker.body))
      const page = await newPage(locale)
      await signIn(page)
      await page.goto(stack.url + '/console/#/tables?cluster=demo&db=ops')
      const row = (name) => page.locator('[data-test="table-list"] .el-table__row', { has: page.locator('[data-test="table-name"]', { hasText: new RegExp('^' + name + '$') }) }).first()
      await row('metrics').waitFor({ timeout: 60_000 })
      for (const name of ['metrics', 'events', 'events_iceberg']) await row(name).locator('.el-checkbox').click()
      await page.locator('[data-test="bulk-open"]', { hasText: '3' }).click()
      const dialog = page.locator('[data-test="bulk-create"]')
      await dialog.waitFor()
      await dialog.locator('[data-test="bulk-submit"]').click()
      await dialog.locator('[data-test="bulk-result"]').nth(2).waitFor()
      const results = await dialog.locator('[data-test="bulk-results"] .el-table__body-wrapper .el-table__row').allInnerTexts()
      const outcome = (name) => results.find((r) => r.split(/\s/)[0] === 'ops.' + name) ?? ''
      assert.match(outcome('metrics'), new RegExp(t.bulk.created))
      assert.match(outcome('events'), new RegExp(t.bulk.conflict))
      assert.match(outcome('events_iceberg'), new RegExp(t.bulk.refused))
      // The refusal is the API's own reason, translated.
      const refusal = await stack.api('POST', '/api/v1/tasks/', { cluster_id: 'demo', task_name: 'x', database_name: 'ops', table_name: 'events_iceberg' })
      assert.equal(refusal.status, 400)
      assert.match(outcome('events_iceberg'), sayPattern(t, refusal.body.error.reason_code, false))
      await shot(page, `${locale}-bulk-create`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'bulk creation')

      // The task created for metrics, cancelled, then retried from its page.
      await dialog.locator('[data-test="bulk-task"]').first().click()
      await page.locator('[data-test="task-detail"]').waitFor()
      const id = decodeURIComponent(page.url().split('/tasks/')[1])
      assert.equal((await stack.api('POST', '/api/v1/tasks/' + id + '/cancel')).status, 200)
      await page.reload()
      await page.locator('[data-test="task-status"][data-status="cancelled"]').waitFor()
      await page.locator('[data-test="activity-cancelled"]').waitFor()
      await page.locator('[data-test="retry"]').click()
      await page.waitForURL((u) => !decodeURIComponent(u.toString()).endsWith('/tasks/' + id))
      await page.locator('[data-test="task-status"][data-status="pending"]').waitFor()
      const retried = decodeURIComponent(page.url().split('/tasks/')[1])
      const [old, fresh] = [(await stack.api('GET', '/api/v1/tasks/' + id)).body, (await stack.api('GET', '/api/v1/tasks/' + retried)).body]
      assert.deepEqual(
        [fresh.cluster_id, fresh.database_name, fresh.table_name, fresh.merge_strategy, fresh.partition_filter, fresh.target_file_size_bytes],
        [old.cluster_id, old.database_name, old.table_name, old.merge_strategy, old.partition_filter, old.target_file_size_bytes],
      )
      assert.ok(fresh.task_name.includes(id), fresh.task_name)
      // Who did what: the new task's creator, as the API recorded it.
      assert.match(await page.locator('[data-test="activity-created"]').innerText(), new RegExp(fresh.created_by))
      await shot(page, `${locale}-task-retried`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'retried task')

      for (const task of [retried, blocker.body.id]) await stack.api('POST', '/api/v1/tasks/' + task + '/cancel')
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it('creates a cluster with an env: reference, tests it and the demo cluster', async () => {
      const page = await newPage(locale)
      await signIn(page)
      await page.locator('[data-test="nav-clusters"]').click()
      await page.locator('[data-test="cluster-table"]').waitFor()
      const id = 'e2e-' + locale.toLowerCase()
      await page.locator('[data-test="new-cluster"]').click()
      const form = page.locator('[data-test="cluster-form"]')
      await form.waitFor()
      await form.locator(field('cluster-id')).fill(id)
      await form.locator(field('cluster-name')).fill('LDAP cluster ' + locale)
      // Nothing listens on port 1: the test resolves the reference, then fails to connect.
      await form.locator(field('cluster-host')).fill('127.0.0.1')
      await form.locator(field('cluster-port')).fill('1')
      await form.locator('[data-test="cluster-auth"]').click()
      await page.locator('.el-select-dropdown__item', { hasText: /^LDAP$/ }).filter({ visible: true }).click()
      await form.locator(field('cluster-username')).fill('etl')
      await form.locator(field('cluster-password-ref')).fill('env:HIVEMERGE_SECRET_E2E')
      await shot(page, `${locale}-cluster-form`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'cluster form')
      await form.locator('[data-test="cluster-save"]').click()
      await page.locator('[data-test="cluster-table"] .el-table__row', { hasText: id }).first().waitFor()
      const stored = (await stack.api('GET', '/api/v1/clusters/' + id)).body
      assert.equal(stored.password_ref, 'env:HIVEMERGE_SECRET_E2E')
      assert.ok(!JSON.stringify(await page.locator('[data-test="cluster-table"]').innerText()).includes('not-the-password'))

      await page.locator(`[data-test="test-demo"]`).first().click()
      await page.locator('[data-test="test-result-demo"] [data-test="test-ok"]').first().waitFor()
      await page.locator(`[data-test="test-${id}"]`).first().click()
      await page.locator(`[data-test="test-result-${id}"] [data-test="test-failed"]`).first().waitFor()
      await shot(page, `${locale}-clusters`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'clusters')

      // Edit it: the form holds the reference, never a password.
      await page.locator(`[data-test="edit-${id}"]`).first().click()
      await form.waitFor()
      assert.equal(await form.locator(field('cluster-password-ref')).inputValue(), 'env:HIVEMERGE_SECRET_E2E')
      await form.locator(field('cluster-name')).fill('LDAP cluster, renamed')
      await form.locator('[data-test="cluster-save"]').click()
      await page.locator('[data-test="cluster-table"] .el-table__row', { hasText: 'renamed' }).first().waitFor()

      // Delete it, with confirmation.
      await page.locator(`[data-test="delete-${id}"]`).first().click()
      await confirmBox(page)
      await page.locator('[data-test="cluster-table"] .el-table__row', { hasText: 'renamed' }).first().waitFor({ state: 'detached' })
      assert.equal((await stack.api('GET', '/api/v1/clusters/' + id)).status, 404)
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it('creates a policy, dry-runs it, and runs the pending check now', async () => {
      const page = await newPage(locale)
      await signIn(page)
      // The policy's dry run reads the scanned metrics: wait for the demo cluster's scan.
      await page.goto(stack.url + '/console/#/tables?cluster=demo&db=ops')
      await page.locator('[data-test="table-list"] [data-test="table-name"]', { hasText: /^audit_log$/ }).first().waitFor({ timeout: 60_000 })
      await page.locator('[data-test="nav-scheduler"]').click()
      await page.locator('[data-test="policy-table"]').waitFor()
      const name = 'e2e-ops-' + locale.toLowerCase()
      await page.locator('[data-test="new-policy"]').click()
      const form = page.locator('[data-test="policy-form"]')
      await form.waitFor()
      // The API's validation error is shown as its message, which names the field.
      await form.locator(field('policy-name')).fill('Not A Name')
      await form.locator('[data-test="policy-save"]').click()
      await form.locator('[data-test="error"]').waitFor()
      assert.match(await form.locator('[data-test="error"]').innerText(), /name/)
      await form.locator(field('policy-name')).fill(name)
      await form.locator(field('policy-clusters')).fill('demo')
      await form.locator(field('policy-databases')).fill('ops')
      await form.locator('[data-test="add-window"]').click()
      await form.locator(field('window-start')).fill('CRON_TZ=Europe/Paris 0 1 * * *')
      await form.locator('[data-test="policy-dry-run"]').click()
      await shot(page, `${locale}-policy-form`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'policy form')
      await form.locator('[data-test="policy-save"]').click()
      await page.locator('[data-test="policy-row-name"]', { hasText: name }).waitFor()
      const stored = (await stack.api('GET', '/api/v1/policies/' + name)).body
      assert.deepEqual([stored.databases, stored.dry_run, stored.windows[0].start], [['ops'], true, 'CRON_TZ=Europe/Paris 0 1 * * *'])
      await shot(page, `${locale}-scheduler-policies`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'policies')

      // Its dry run shows the tables it would merge, as the API plans them.
      await page.locator(`[data-test="dry-run-${name}"]`).click()
      const plan = page.locator('[data-test="plan"]')
      await plan.locator('[data-test="plan-candidates"] .el-table__row').first().waitFor()
      const { body: planned } = await stack.api('POST', `/api/v1/policies/${name}/dry-run`)
      assert.ok(planned.candidates.length > 0)
      const shown = await plan.locator('[data-test="plan-candidates"]').innerText()
      for (const c of planned.candidates) assert.ok(shown.includes(c.table_name), `${c.table_name} is not among the candidates shown`)
      await shot(page, `${locale}-policy-dry-run`)
      await page.keyboard.press('Escape')

      // Run the pending check now: its run is listed.
      await page.locator('[data-test="scheduler"] .el-tabs__item', { hasText: t.scheduler.runs }).click()
      await page.locator('[data-test="run-table"]').waitFor()
      await page.locator('[data-test="run-now"]').click()
      await page.locator('[data-test="run-check-pending"]').filter({ visible: true }).click()
      await page.locator('.el-message', { hasText: 'check-pending' }).waitFor()
      const { body: runs } = await stack.api('GET', '/api/v1/scheduler/runs?job=check-pending')
      assert.ok(runs.runs.length > 0)
      const checkRow = page.locator('[data-test="run-table"] .el-table__row', { has: page.locator('[data-test="run-job-name"]', { hasText: 'check-pending' }) }).first()
      await checkRow.waitFor()
      // Its summary is worded from its counts in the console's language.
      const requeued = t.runSummary['check-pending'].split('{requeued}').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      assert.match(await checkRow.locator('[data-test="run-summary"]').innerText(), new RegExp('^' + requeued.join('\\d+') + '$'))
      await shot(page, `${locale}-scheduler-runs`)
      if (locale === 'zh-CN') await checkNoEnglish(page, 'runs')

      // Delete the policy, with confirmation.
      await page.locator('[data-test="scheduler"] .el-tabs__item', { hasText: t.scheduler.policies }).click()
      await page.locator(`[data-test="delete-${name}"]`).click()
      await confirmBox(page)
      await page.locator('[data-test="policy-row-name"]', { hasText: name }).waitFor({ state: 'detached' })
      assert.equal((await stack.api('GET', '/api/v1/policies/' + name)).status, 404)
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })

    it("shows the API's 403 to a viewer", async () => {
      const page = await newPage(locale)
      await signIn(page, viewerToken)
      await page.goto(stack.url + '/console/#/clusters')
      await page.locator('[data-test="new-cluster"]').click()
      const form = page.locator('[data-test="cluster-form"]')
      await form.locator(field('cluster-id')).fill('not-allowed')
      await form.locator(field('cluster-host')).fill('hive.example.com')
      await form.locator('[data-test="cluster-save"]').click()
      await form.locator('[data-test="error"]').waitFor()
      assert.match(await form.locator('[data-test="error"]').innerText(), /403.*admin/s)
      await shot(page, `${locale}-clusters-forbidden`)
      // Sign out leads back to the sign-in page.
      await page.keyboard.press('Escape')
      await page.locator('[data-test="sign-out"]').click()
      await page.locator('[data-test="token"]').waitFor()
      assert.equal(await page.evaluate(() => sessionStorage.getItem('hivemerge.token')), null)
      assert.deepEqual(page.problems, [])
      await page.context().close()
    })
  })
}

describe('console at 1920 px', () => {
  it('lays out the dashboard, tasks and clusters on a wide screen', async () => {
    const page = await newPage('en', { width: 1920, height: 1080 })
    await stack.api('POST', '/api/v1/tasks/', { cluster_id: 'demo', task_name: 'a task with a rather long name for the layout', database_name: 'web', table_name: 'clicks' })
    await signIn(page)
    await page.locator('[data-test="status-chart"] canvas').waitFor()
    await shot(page, 'en-1920-dashboard')
    for (const p of ['tasks', 'clusters']) {
      await page.locator(`[data-test="nav-${p}"]`).click()
      await page.locator(`[data-test="${p}"]`).waitFor()
      await shot(page, `en-1920-${p}`)
    }
    await page.goto(stack.url + '/console/#/tables/demo/ops/metrics')
    await page.locator('[data-test="partitions"] [data-test="partition-name"]').first().waitFor({ timeout: 60_000 })
    await shot(page, 'en-1920-table-detail')
    // Nothing wider than the window at either end of the range.
    for (const width of [1920, 1280]) {
      await page.setViewportSize({ width, height: 900 })
      for (const [p, marker] of [...['dashboard', 'tables', 'tasks', 'clusters', 'scheduler'].map((p) => [p, p]), ['tables/demo/ops/metrics', 'table-detail']]) {
        await page.goto(stack.url + '/console/#/' + p)
        await page.locator(`[data-test="${marker}"]`).waitFor()
        await page.waitForLoadState('networkidle')
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
        assert.equal(overflow, 0, `${p} at ${width} px scrolls sideways by ${overflow} px`)
        // Nor does a table hide columns behind a scrollbar.
        const tables = await page.evaluate(() =>
          [...document.querySelectorAll('.el-table .el-scrollbar__wrap')].map((e) => e.scrollWidth - e.clientWidth),
        )
        assert.ok(tables.every((d) => d <= 1), `${p} at ${width} px: a table scrolls sideways by ${tables} px`)
      }
    }
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  it('pages through tasks with the cursor', async () => {
    for (let i = 0; i < 21; i++) {
      // Tasks name tables that exist: partitions of a healthy table no other test touches.
      const dt = '2020-01-' + String(i + 1).padStart(2, '0')
      const r = await stack.api('POST', '/api/v1/tasks/', { cluster_id: 'demo', task_name: `paging ${i}`, database_name: 'web', table_name: 'daily_summary', partition_filter: [{ dt }] })
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
    const page = await newPage('en')
    await signIn(page)
    await page.goto(stack.url + '/console/#/tasks?database_name=web&table_name=daily_summary')
    const rows = page.locator('[data-test="task-table"] .el-table__body-wrapper .el-table__row')
    await page.locator('[data-test="task-link"]', { hasText: 'paging 20' }).waitFor()
    assert.equal(await rows.count(), 20)
    await page.locator('[data-test="next"]').click()
    await page.locator('[data-test="task-link"]', { hasText: /^paging 0$/ }).waitFor()
    assert.equal(await rows.count(), 1)
    assert.ok(await page.locator('[data-test="next"]').isDisabled())
    await page.locator('[data-test="prev"]').click()
    await page.locator('[data-test="task-link"]', { hasText: 'paging 20' }).waitFor()
    assert.equal(await rows.count(), 20)
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })
})
