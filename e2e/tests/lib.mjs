// Shared helpers of the browser suite.
import { expect } from "@playwright/test";

/** Password every demo account gets in the e2e run (run.sh sets it). */
export const PASSWORD = process.env.E2E_PASSWORD || "e2e-password-123";

/**
 * Fails the test on any console error, page error or failed request (including any request
 * that leaves the server: nothing external may ever load).
 */
export function watchPage(page) {
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => {
    // Navigations away cancel pending requests; those are not failures of the page.
    const f = r.failure();
    if (f && f.errorText.includes("ERR_ABORTED")) return;
    problems.push(`requestfailed: ${r.url()} ${f ? f.errorText : ""}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`http ${r.status()}: ${r.url()}`);
  });
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["127.0.0.1", "localhost"].includes(u.hostname) && u.protocol.startsWith("http")) {
      problems.push(`external request: ${r.url()}`);
    }
  });
  return {
    problems,
    assertClean() {
      expect(problems, problems.join("\n")).toEqual([]);
    },
  };
}

/** Signs in as a demo account through the login form. */
export async function login(page, username) {
  await page.goto("/login");
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForURL(/\/app/), page.click('button[type="submit"]')]);
}

/** Waits until every ECharts chart on the page has drawn (a canvas with a size). */
export async function chartsDrawn(page, min = 1) {
  await expect
    .poll(async () => page.locator('.chart[data-ready="drawn"] canvas').count(), { timeout: 20_000 })
    .toBeGreaterThanOrEqual(min);
}
