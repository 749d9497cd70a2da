// The register of market entities (市场主体) in a real browser: a district data officer adds an
// enterprise through the form, first with a mistyped credit code (the form comes back with the
// error next to the code, the other fields kept), then with the right one; finds it by search;
// and opens its page. A demo use unit's page lists the elevators it uses (the equipment hook).
// An officer imports a CSV file through the import page (the counts, then a bad row named and
// nothing imported). No console error, nothing external; the expected 422s are the refusals.
import { test, expect } from "@playwright/test";
import { watchPage, login } from "./lib.mjs";

const CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100-2015: the 18-character code for a 17-character body. */
function withCheck(body) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CHARS.indexOf(body[i]) * WEIGHTS[i];
  return body + CHARS[(31 - (sum % 31)) % 31];
}

test("an officer adds an enterprise, sees the code error, and finds it by search", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "officer");
  const seq = String(Date.now() % 10_000_000).padStart(7, "0");
  const good = withCheck(`91990102MA${seq}`);
  const wrong = good.slice(0, 17) + (good[17] === "0" ? "1" : "0");
  const name = `浏览器测试电梯维保有限公司${seq}`;

  await page.goto("/app/enterprises");
  await page.getByTestId("enterprise-add").click();
  await expect(page).toHaveURL(/\/app\/enterprises\/new$/);
  const form = page.getByTestId("enterprise-form");
  await form.locator('input[name="credit_code"]').fill(wrong);
  await form.locator('input[name="name"]').fill(name);
  await form.locator('input[name="address"]').fill("东湖区测试路1号");
  await form.locator('button[type="submit"]').click();
  await expect(page.getByTestId("error-credit_code")).toContainText("校验码");
  await expect(page.getByTestId("enterprise-form").locator('input[name="name"]')).toHaveValue(name);

  await page.getByTestId("enterprise-form").locator('input[name="credit_code"]').fill(good);
  await Promise.all([
    page.waitForURL(/\/app\/enterprises\/\d+$/),
    page.getByTestId("enterprise-form").locator('button[type="submit"]').click(),
  ]);
  await expect(page.getByTestId("enterprise-name")).toHaveText(name);
  await expect(page.getByTestId("enterprise-credit-code")).toHaveText(good);

  await page.goto("/app/enterprises");
  const search = page.getByTestId("enterprise-search");
  await search.locator('input[name="q"]').fill(`测试电梯维保有限公司${seq}`);
  await Promise.all([page.waitForURL(/q=/), search.locator('button[type="submit"]').click()]);
  await expect(page.getByTestId("total")).toHaveText("1");
  await page.getByTestId("enterprises").locator("a", { hasText: name }).click();
  await expect(page.getByTestId("enterprise-credit-code")).toHaveText(good);

  // The refused form is the only error response (Chromium also logs it to the console).
  const expected = [
    /^http 422: .*\/app\/enterprises$/,
    /^console: Failed to load resource: the server responded with a status of 422/,
  ];
  const unexpected = w.problems.filter((p) => !expected.some((re) => re.test(p)));
  expect(unexpected, unexpected.join("\n")).toEqual([]);
});

test("an officer imports enterprises from a CSV file and is told the row of a bad code", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "officer");
  const seq = String((Date.now() + 7) % 10_000_000).padStart(7, "0");
  const a = withCheck(`91990102MB${seq}`);
  const b = withCheck(`91990102MC${seq}`);
  const file = (rows) => ({
    name: "enterprises.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(["credit_code,name,region_code", ...rows].join("\n") + "\n"),
  });
  await page.goto("/app/enterprises/import");
  const form = page.locator("form[data-import]");
  const result = page.locator("[data-import-result]");
  await form.locator("input[type=file]").setInputFiles(
    file([`${a},导入测试甲公司${seq},990102`, `${b},导入测试乙公司${seq},990102`]),
  );
  await form.locator("button[type=submit]").click();
  await expect(result).toHaveText("✓ +2 / ↻0");
  await expect(result).toHaveClass("ok");

  // A mistyped check character on the second data row (row 3 of the file): nothing is imported.
  const wrong = b.slice(0, 17) + (b[17] === "0" ? "1" : "0");
  await form.locator("input[type=file]").setInputFiles(
    file([`${a},导入测试甲公司${seq}（更名）,990102`, `${wrong},导入测试丙公司${seq},990102`]),
  );
  await form.locator("button[type=submit]").click();
  await expect(result).toHaveClass("error");
  await expect(result).toContainText("row 3");
  await expect(result).toContainText("credit_code");
  await page.goto(`/app/enterprises?q=${encodeURIComponent(`导入测试甲公司${seq}`)}`);
  await expect(page.getByTestId("enterprises").locator("a", { hasText: `导入测试甲公司${seq}（更名）` })).toHaveCount(0);

  const expected = [
    /^http 422: .*\/api\/v1\/enterprises\/import$/,
    /^console: Failed to load resource: the server responded with a status of 422/,
  ];
  const unexpected = w.problems.filter((p) => !expected.some((re) => re.test(p)));
  expect(unexpected, unexpected.join("\n")).toEqual([]);
});

test("a demo use unit's page lists the elevators it uses", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "inspector");
  await page.goto("/app/enterprises?q=%E7%89%A9%E4%B8%9A");
  const first = page.getByTestId("enterprises").locator("tbody tr a").first();
  await first.click();
  const section = page.getByTestId("enterprise-section").first();
  await expect(section).toBeVisible();
  await expect(section.locator("a").first()).toHaveAttribute("href", /\/app\/equipment\/registry\/\d+/);
  w.assertClean();
});
