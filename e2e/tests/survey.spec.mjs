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
  await expect(p.getByTestId("survey-progress")).toContainText("1 / 7");
  // Pick a district whose quota cells are still open (the demo fills a few).
  await p.locator('input[name="q_D1"]').last().check();
  await p.locator('input[name="q_D2"][value="18-29"]').check();
  await p.locator('input[name="q_D3"][value="f"]').check();
  await p.locator('input[name="q_D4"][value="high"]').check();
  await p.locator('input[name="q_D5"][value="gt5"]').check();
  // Sections 2–6: the 78 indicators of the five domains, rated 4 (some 5).
  for (const page of [2, 3, 4, 5, 6]) {
    await Promise.all([p.waitForURL(new RegExp(`page=${page}`)), p.getByTestId("survey-next").click()]);
    const boxes = await p.locator("fieldset.sq").all();
    expect(boxes.length).toBeGreaterThanOrEqual(14);
    for (const [i, fs] of boxes.entries()) {
      await fs.locator(`input[type="radio"][value="${i % 3 === 0 ? 5 : 4}"]`).check();
    }
  }
  await Promise.all([p.waitForURL(/page=7/), p.getByTestId("survey-next").click()]);
  for (const code of ["O01", "O02"]) {
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

test("a survey manager builds a questionnaire in the builder", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "analyst");
  await page.goto("/app/survey");
  const code = `E2E${Date.now() % 100000}`;
  const nf = page.getByTestId("survey-new-questionnaire");
  await nf.locator('input[name="code"]').fill(code);
  await nf.locator('input[name="title_zh"]').fill("社区服务满意度小调查");
  await nf.locator('input[name="title_en"]').fill("Neighbourhood services mini-survey");
  await Promise.all([page.waitForURL(/\/app\/survey\/questionnaires\/\d+$/), nf.locator('button[type="submit"]').click()]);
  await expect(page.getByTestId("survey-builder")).toContainText(code);
  const form = () => page.getByTestId("survey-question-form");
  /** Fills the question editor and saves (htmx swaps the builder in place). */
  async function add(fields) {
    const f = form();
    for (const [name, value] of Object.entries(fields)) {
      const el = f.locator(`[name="${name}"]`);
      const tag = await el.evaluate((e) => e.tagName + (e.type ? ":" + e.type : ""));
      if (tag.startsWith("SELECT")) await el.selectOption(value);
      else if (tag === "INPUT:checkbox") await (value ? el.check() : el.uncheck());
      else await el.fill(value);
    }
    // Wait for htmx to swap in the new builder before the next step.
    await page.evaluate(() => { document.getElementById("builder").dataset.stale = "1"; });
    await f.getByTestId("survey-question-save").click();
    await expect(page.locator("#builder[data-stale]")).toHaveCount(0);
  }
  // A 7-point rating linked to an indicator of the catalogue.
  await add({ code: "S1", kind: "likert", scale: "7", page: "2", domain: "service", indicator_code: "S-PROPERTY", text_zh: "您对小区物业服务的满意程度？", text_en: "How satisfied are you with property management?" });
  await expect(page.getByTestId("survey-section-2")).toContainText("S1");
  await expect(page.getByTestId("survey-builder-notice")).toBeVisible();
  // A single choice with options, then a follow-up shown only after "yes".
  await add({ code: "C1", kind: "single", page: "2", options: "yes|是|Yes\nno|否|No", text_zh: "您是否投诉过物业？", text_en: "Did you complain to the property manager?", dont_know: false });
  await add({ code: "C2", kind: "text", page: "2", required: false, show_if_question: "C1", show_if_values: "yes", text_zh: "投诉的结果如何？", text_en: "What came of it?" });
  // A bad scale is refused with a message naming the field; nothing is added.
  await add({ code: "BAD", kind: "numeric", page: "2", min: "10", max: "1", text_zh: "错误" });
  await expect(page.getByTestId("survey-builder-error")).toContainText("max");
  await expect(page.getByTestId("survey-section-2").locator('tr[data-code="BAD"]')).toHaveCount(0);
  // Reorder: C1 above S1; edit S1's Chinese text; delete nothing that C2 depends on.
  await page.getByTestId("up-C1").click();
  await expect(page.getByTestId("survey-section-2").locator("tbody tr").first()).toHaveAttribute("data-code", "C1");
  await page.getByTestId("edit-S1").click();
  await expect(form().locator('input[name="original"]')).toHaveValue("S1");
  await form().locator('[name="text_zh"]').fill("您对所住小区物业服务的满意程度如何？");
  await form().getByTestId("survey-question-save").click();
  await expect(page.getByTestId("survey-section-2")).toContainText("您对所住小区物业服务的满意程度如何？");
  page.once("dialog", (d) => d.accept());
  await page.getByTestId("delete-C1").click();
  await expect(page.getByTestId("survey-builder-error")).toContainText("C2");
  // The preview shows the questions with live display logic.
  await page.getByTestId("survey-preview-link").click();
  await expect(page.getByTestId("survey-preview")).toBeVisible();
  await expect(page.locator("#f_C2")).toBeHidden();
  await page.locator('input[name="q_C1"][value="yes"]').check();
  await expect(page.locator("#f_C2")).toBeVisible();
  // Seven scale points and "don't know" (on by default for ratings).
  await expect(page.locator('#f_S1 input[type="radio"]')).toHaveCount(8);
  await expect(page.locator('#f_S1 input[value="7"]')).toHaveCount(1);
  w.assertClean();
});
