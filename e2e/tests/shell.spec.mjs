// The web shell in a real browser: sign in, see the dashboard with its ECharts charts (a bar
// chart and a district map), switch the language, and sign out — with no console error, no
// failed request and nothing loaded from outside.
import { test, expect } from "@playwright/test";
import { watchPage, login, chartsDrawn } from "./lib.mjs";

test("sign in, dashboard charts, language switch, sign out", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "admin");
  await expect(page).toHaveURL(/\/app$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.locator("h1")).toHaveText("城市概览");
  await expect(page.getByTestId("who")).toContainText("系统管理员");
  await chartsDrawn(page, 2);

  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.locator("h1")).toHaveText("City overview");
  await chartsDrawn(page, 2);
  // Remembered: a fresh navigation stays in English.
  await page.goto("/app/admin/regions");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.locator("table.data")).toContainText("Donghu District");
  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");

  await page.getByRole("button", { name: "退出" }).click();
  await expect(page).toHaveURL(/\/login/);
  w.assertClean();
});

test("a district officer's scope and role hold in the browser", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "officer");
  await expect(page.getByTestId("who")).toContainText("数据填报员");
  const resp = await page.request.get("/api/v1/regions/990103");
  expect(resp.status()).toBe(404);
  const own = await page.request.get("/api/v1/regions/990102");
  expect(own.status()).toBe(200);
  // No admin links for a data officer.
  await expect(page.locator('a[href="/app/admin/users"]')).toHaveCount(0);
  w.assertClean();
});
