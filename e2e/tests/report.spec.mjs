// The public quality portal and the annual report in a real browser: charts drawn, no console
// error, the language switch, the PDF's text carrying the headline figures of the HTML page,
// and the staff report pages.
import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchPage, login, chartsDrawn } from "./lib.mjs";

// The demo reports wait for the other modules' background data (at most two minutes).
test.setTimeout(240_000);

/** The demo reports are assembled in the background after start-up: wait for two. */
async function waitForReports(request) {
  await expect
    .poll(async () => {
      const r = await request.get("/api/v1/public/990100/indicators");
      if (!r.ok()) return 0;
      return (await r.json()).reports.length;
    }, { timeout: 180_000, intervals: [1000] })
    .toBeGreaterThanOrEqual(2);
}

test("portal home, report page, language switch, PDF", async ({ page }) => {
  await waitForReports(page.request);
  const w = watchPage(page);
  await page.goto("/");
  await expect(page).toHaveURL(/\/p\/990100$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByTestId("portal-title")).toContainText("城市质量公开门户");
  await expect(page.getByTestId("archive").locator("li")).toHaveCount(2);
  const trendCharts = await page.getByTestId("trend-chart").count();
  if (trendCharts > 0) await chartsDrawn(page, trendCharts);

  await page.getByTestId("archive").locator("a", { hasText: "2025" }).first().click();
  await expect(page).toHaveURL(/\/p\/990100\/reports\/2025$/);
  await expect(page.getByTestId("report-title")).toContainText("2025年城市质量状况分析报告");
  const charts = await page.getByTestId("report-chart").count();
  if (charts > 0) await chartsDrawn(page, charts);
  const headlines = await page.locator('[data-testid="headlines"] .v').allInnerTexts();

  // The PDF's text carries the headline figures shown on the page (the PDF is built by
  // default; only a machine without pdftotext records the text check as skipped).
  const pdf = await page.request.get("/p/990100/reports/2025.pdf");
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()["content-type"]).toBe("application/pdf");
  const body = await pdf.body();
  expect(body.subarray(0, 5).toString()).toBe("%PDF-");
  let hasPdftotext = true;
  try {
    execFileSync("pdftotext", ["-v"], { stdio: "ignore" });
  } catch {
    hasPdftotext = false;
  }
  if (!hasPdftotext) {
    test.info().annotations.push({ type: "skipped", description: "PDF text: pdftotext (poppler-utils) is not installed" });
  } else {
    const dir = mkdtempSync(join(tmpdir(), "qcity-e2e-pdf-"));
    try {
      writeFileSync(join(dir, "r.pdf"), body);
      const text = execFileSync("pdftotext", ["-layout", join(dir, "r.pdf"), "-"]).toString();
      const flat = text.replace(/\s+/g, "");
      expect(flat).toContain("2025年城市质量状况分析报告");
      expect(headlines.length).toBeGreaterThan(0);
      // Each headline as shown (value and unit, e.g. "82.3分").
      for (const h of headlines) expect(flat).toContain(h.replace(/\s+/g, ""));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByTestId("report-title")).toContainText("Quality Report 2025");
  if (charts > 0) await chartsDrawn(page, charts);

  await page.goto("/p/990100/data");
  await expect(page.locator("h1")).toHaveText("Open data");
  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  w.assertClean();
});

test("unpublished years are not public", async ({ page }) => {
  await waitForReports(page.request);
  for (const url of ["/p/990100/reports/2026", "/p/990100/reports/2026.pdf", "/p/990199"]) {
    const r = await page.request.get(url);
    expect(r.status(), url).toBe(404);
  }
});

test("the analyst's report pages", async ({ page }) => {
  await waitForReports(page.request);
  const w = watchPage(page);
  await login(page, "analyst");
  await page.goto("/app/reports");
  await expect(page.locator("h1")).toHaveText("年度质量报告");
  await expect(page.locator('tr[data-status="published"]')).toHaveCount(2);
  await expect(page.locator('tr[data-status="draft"]')).toHaveCount(1);
  await page.locator('tr[data-status="draft"] a').first().click();
  await expect(page.getByTestId("report")).toBeVisible();
  await expect(page.getByTestId("edit-overview")).toBeVisible();
  const charts = await page.getByTestId("report-chart").count();
  if (charts > 0) await chartsDrawn(page, charts);
  w.assertClean();
});
