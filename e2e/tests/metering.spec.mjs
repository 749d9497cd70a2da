// The metering pages in a real browser: the city overview draws its map and intensity chart;
// the energy manager lands on their brewery (and only it), whose unit page draws the daily
// energy, Sankey, baseline-vs-actual and CUSUM charts; a meter page draws its load curve and
// heat map; an alert is acknowledged through the form; operating hours are saved through the
// unit page form. No console error, nothing external.
import { test, expect } from "@playwright/test";
import { watchPage, login, chartsDrawn } from "./lib.mjs";

test("the city overview draws its charts", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "analyst");
  await page.goto("/app/metering");
  await expect(page.getByTestId("metering-units")).toContainText("清泉啤酒");
  await chartsDrawn(page, 2);
  w.assertClean();
});

test("the energy manager sees only the brewery, with its charts", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "energy");
  await page.goto("/app/metering");
  const rows = page.locator('[data-testid="metering-units"] tbody tr');
  await expect(rows).toHaveCount(1);
  await rows.first().locator("a").click();
  await expect(page.getByTestId("metering-coverage")).toBeVisible();
  await chartsDrawn(page, 2);
  const meter = page.locator('[data-testid="metering-meters"] a').first();
  await meter.click();
  await chartsDrawn(page, 2);
  w.assertClean();
});

test("an alert is acknowledged through the form", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "energy");
  await page.goto("/app/metering/alerts");
  const form = page.locator('[data-testid="metering-alerts"] form').first();
  test.skip((await form.count()) === 0, "no open alert yet (demo readings still generating)");
  await form.locator('input[name="note"]').fill("e2e: 已处理");
  await Promise.all([page.waitForURL(/\/app\/metering\/alerts/), form.locator("button").click()]);
  await expect(page.getByTestId("metering-alerts")).toContainText("e2e: 已处理");
  w.assertClean();
});

test("operating hours are edited on the unit page", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "energy");
  await page.goto("/app/metering");
  await page.locator('[data-testid="metering-units"] tbody tr a').first().click();
  const form = page.getByTestId("metering-hours");
  await expect(form.locator('input[name="open_0"]')).toHaveValue("8");
  await form.locator('input[name="close_4"]').fill("20");
  await Promise.all([
    page.waitForURL(/\/app\/metering\/units\/\d+$/),
    form.locator('button[type="submit"]').click(),
  ]);
  await expect(page.getByTestId("metering-hours").locator('input[name="close_4"]')).toHaveValue("20");
  w.assertClean();
});
