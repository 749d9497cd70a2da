// The evaluation module in a real browser: the framework tree with passports, the data-entry
// grid of a district officer (scope held), the completeness matrix, and an index run's
// results with all five ECharts charts (ranking, map, radar, trend, rank intervals) — with no
// console error, failed request or external load.
import { test, expect } from "@playwright/test";
import { watchPage, login, chartsDrawn } from "./lib.mjs";

/** Waits until the demo's background index runs have finished. */
async function demoRuns(page) {
  await expect
    .poll(async () => {
      const r = await page.request.get("/api/v1/evaluation/runs");
      if (!r.ok()) return 0;
      const runs = await r.json();
      return runs.filter((x) => x.status === "finished").length;
    }, { timeout: 60_000 })
    .toBeGreaterThanOrEqual(5);
}

test("analyst: frameworks, passports, results charts", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "analyst");
  await page.goto("/app/evaluation");
  await expect(page.locator("h1")).toHaveText("城市质量评价");
  await expect(page.getByTestId("frameworks")).toContainText("城市质量发展评价指标体系");
  await page.getByTestId("frameworks").getByRole("link", { name: "城市质量发展评价指标体系" }).click();
  const tree = page.getByTestId("framework-tree");
  await expect(tree).toContainText("经济发展质量");
  await expect(tree).toContainText("CQ-ELEV-TRAP");
  await tree.getByText("电梯万台困人率").click();
  await expect(tree).toContainText("每月每万台电梯困人故障次数");

  await demoRuns(page);
  await page.goto("/app/evaluation/runs");
  await page.getByTestId("runs").getByRole("link", { name: "CQ 2025" }).click();
  await expect(page.getByTestId("results")).toContainText("区");
  await chartsDrawn(page, 5);
  await expect(page.getByTestId("strengths")).toBeVisible();

  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByTestId("results")).toContainText("District");
  await chartsDrawn(page, 5);
  await page.getByTestId("lang-switch").click();
  w.assertClean();
});

test("officer: entry grid in own district only, completeness", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "officer");
  await page.goto("/app/evaluation/entry?year=2025&region=990103");
  const grid = page.getByTestId("entry-grid");
  await expect(grid).toBeVisible();
  // the region select offers only the officer's district
  await expect(page.locator('select[name="region"] option')).toHaveCount(1);
  await expect(page.locator('select[name="region"]')).toHaveValue("990102");
  // another district's value is not found by URL
  const other = await page.request.get("/api/v1/evaluation/values?region=990103");
  expect(await other.json()).toEqual([]);
  await page.goto("/app/evaluation/completeness?year=2024");
  await expect(page.getByTestId("completeness")).toContainText("已发布");
  w.assertClean();
});

test("analyst: validation rules from the passport (htmx)", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "analyst");
  await page.goto("/app/evaluation");
  await page.getByTestId("frameworks").getByRole("link", { name: "城市质量发展评价指标体系" }).click();
  const tree = page.getByTestId("framework-tree");
  await tree.getByText("电梯万台困人率").click();
  await tree.locator("#CQ-ELEV-TRAP").getByTestId("rules-link").click();
  await expect(page.locator("h1")).toContainText("CQ-ELEV-TRAP");
  const panel = page.getByTestId("rules-panel");
  const before = await panel.locator("tr[data-rule-id]").count();
  // add a year-on-year rule for this indicator; htmx swaps the panel in place
  const form = page.getByTestId("rule-new");
  await form.locator('select[name="kind"]').selectOption("yoy");
  await form.locator('input[name="threshold"]').fill("15");
  await form.getByRole("button").click();
  await expect(panel.locator("tr[data-rule-id]")).toHaveCount(before + 1);
  const row = panel.locator('tr[data-kind="yoy"]').filter({ hasText: "CQ-ELEV-TRAP" });
  await expect(row.locator('input[name="threshold"]')).toHaveValue("15");
  // disable, then delete it
  await row.getByRole("button", { name: "停用" }).click();
  await expect(panel.locator('tr[data-kind="yoy"].muted').filter({ hasText: "CQ-ELEV-TRAP" })).toHaveCount(1);
  page.once("dialog", (d) => d.accept());
  await panel.locator('tr[data-kind="yoy"]').filter({ hasText: "CQ-ELEV-TRAP" }).getByRole("button", { name: "删除" }).click();
  await expect(panel.locator("tr[data-rule-id]")).toHaveCount(before);
  w.assertClean();
});

test("analyst: add an indicator to the framework structure (htmx)", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "analyst");
  await page.goto("/app/evaluation");
  await page.getByTestId("frameworks").getByRole("link", { name: "城市质量发展评价指标体系" }).click();
  await page.getByTestId("structure-link").click();
  await expect(page.locator("h1")).toContainText("指标体系结构");
  const panel = page.getByTestId("structure-panel");
  const code = `CQ-E2E-${Date.now() % 1000000}`;
  // add an indicator under the economic dimension; htmx swaps the panel in place
  const form = page.getByTestId("node-new");
  await form.locator('select[name="kind"]').selectOption("indicator");
  await form.locator('select[name="parent"]').selectOption("CQ-D-ECON");
  await form.locator('input[name="code"]').fill(code);
  await form.locator('input[name="name_zh"]').fill("浏览器新增指标");
  await form.locator('input[name="name_en"]').fill("Indicator added in the browser");
  await form.locator('input[name="unit"]').fill("%");
  await form.locator('button[type="submit"]').click();
  const row = panel.locator(`tr[data-code="${code}"]`);
  await expect(row).toHaveAttribute("data-kind", "indicator");
  await expect(panel.getByRole("status")).toBeVisible();
  // it is in the framework tree, under its dimension
  const api = await page.request.get(page.url().replace("/app/", "/api/v1/").replace("/structure", `/nodes/${code}`));
  expect((await api.json()).parent).toBe("CQ-D-ECON");
  // a used code is refused in the panel, naming the field
  await form.locator('select[name="parent"]').selectOption("CQ-D-SOC");
  await form.locator('input[name="code"]').fill(code);
  await form.locator('input[name="name_zh"]').fill("重复");
  await page.getByTestId("node-new").locator('button[type="submit"]').click();
  await expect(panel.getByTestId("structure-error")).toContainText("code");
  // delete it again (no data, no run used it)
  page.once("dialog", (d) => d.accept());
  await panel.locator(`tr[data-code="${code}"]`).getByRole("button", { name: "删除" }).click();
  await expect(panel.locator(`tr[data-code="${code}"]`)).toHaveCount(0);
  w.assertClean();
});
