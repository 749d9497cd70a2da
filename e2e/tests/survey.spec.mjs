// The citizen satisfaction survey in a real browser: a citizen answers the open questionnaire on
// a phone-sized screen (display logic, paging, thank-you), and an analyst reads the wave's
// analysis (charts drawn, no console error, language switch).
import { test, expect } from "@playwright/test";
import { watchPage, login, chartsDrawn } from "./lib.mjs";

test.setTimeout(240_000);

/** Waits for the demo's background job to publish the 2025 wave; returns the waves. */
async function waves(request) {
  let list = [];
  await expect
    .poll(async () => {
      const r = await request.get("/api/v1/survey/waves");
      if (!r.ok()) return 0;
      list = (await r.json()).waves;
      return list.filter((w) => w.status === "published").length;
    }, { timeout: 180_000, intervals: [1000] })
    .toBeGreaterThanOrEqual(2);
  return list;
}

test("a citizen answers the open questionnaire", async ({ browser, page }) => {
  await login(page, "analyst");
  const list = await waves(page.request);
  const open = list.find((w) => w.status === "collecting");
  expect(open).toBeTruthy();
  const citizen = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const p = await citizen.newPage();
  const w = watchPage(p);
  await p.goto(`/s/${open.open_token}`);
  await expect(p.getByTestId("survey-progress")).toContainText("1 / 4");
  // Pick a district whose quota cells are still open (the demo fills a few).
  await p.locator('input[name="q_D1"]').last().check();
  await p.locator('input[name="q_D2"][value="18-29"]').check();
  await p.locator('input[name="q_D3"][value="f"]').check();
  await p.locator('input[name="q_D4"][value="high"]').check();
  await p.locator('input[name="q_D5"][value="gt5"]').check();
  await Promise.all([p.waitForURL(/page=2/), p.getByTestId("survey-next").click()]);
  for (const code of ["P01", "P02", "P03", "P04", "C01", "C02", "C03"]) {
    await p.locator(`input[name="q_${code}"][value="4"]`).check();
  }
  await Promise.all([p.waitForURL(/page=3/), p.getByTestId("survey-next").click()]);
  for (const code of ["S01", "S02", "S03", "S04", "E01", "E02", "E03", "E04"]) {
    await p.locator(`input[name="q_${code}"][value="5"]`).check();
  }
  await Promise.all([p.waitForURL(/page=4/), p.getByTestId("survey-next").click()]);
  for (const code of ["G01", "G02", "G03", "O01", "O02"]) {
    await p.locator(`input[name="q_${code}"][value="3"]`).check();
  }
  // Display logic: the complaint-handling question appears only after "yes".
  await expect(p.locator("#f_X3")).toBeHidden();
  await p.locator('input[name="q_X2"][value="yes"]').check();
  await expect(p.locator("#f_X3")).toBeVisible();
  await p.locator('input[name="q_X3"][value="2"]').check();
  await p.locator('textarea[name="q_T1"]').fill("希望加强电梯安全监管");
  await Promise.all([p.waitForURL(/thanks$/), p.getByTestId("survey-submit").click()]);
  await expect(p.getByTestId("survey-thanks")).toBeVisible();
  // The same browser cannot answer twice.
  await p.goto(`/s/${open.open_token}`);
  await expect(p.getByTestId("survey-already")).toBeVisible();
  w.assertClean();
  await citizen.close();
});

test("the analyst reads the analysis", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "analyst");
  const list = await waves(page.request);
  const y2025 = list.find((x) => x.year === 2025);
  await page.goto("/app/survey");
  await expect(page.getByTestId("survey-waves")).toContainText("2025");
  await page.goto(`/app/survey/waves/${y2025.id}/analysis`);
  await expect(page.getByTestId("overall-score")).toHaveText(/\d+\.\d\d/);
  await expect(page.getByTestId("domain-table").locator("tbody tr")).toHaveCount(6);
  await chartsDrawn(page, 5);
  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByTestId("domain-table")).toContainText("Products");
  await page.goto(`/app/survey/waves/${y2025.id}`);
  await expect(page.getByTestId("quota-table")).toBeVisible();
  w.assertClean();
});
