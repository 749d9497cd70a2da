// The 96333 dispatcher board in a real browser: an incident created through the API appears on
// the open board (server-sent events, no reload) with a running timer; the intake screen shows
// the elevator, its maintenance company and the duty phone on one screen; the KPI page draws
// its charts. No console error, no failed request, nothing external.
import { test, expect } from "@playwright/test";
import { watchPage, login, chartsDrawn } from "./lib.mjs";

test("an incident created through the API appears on the live board with a running timer", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "dispatcher");
  await page.goto("/app/equipment/board");
  await expect(page.getByTestId("board")).toBeVisible();
  // A rescue code of the demo city (the first demo elevator).
  const list = await page.request.get("/api/v1/equipment?category=3000&limit=1");
  expect(list.status()).toBe(200);
  const rescue = (await list.json()).items[0].rescue_code;
  const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
  const created = await page.request.post("/api/v1/incidents", {
    data: { rescue_code: rescue, channel: "phone", caller_phone: "13900000000" },
    headers: { "X-CSRF-Token": csrf, "Idempotency-Key": `e2e-${Date.now()}` },
  });
  expect(created.status()).toBe(201);
  const inc = await created.json();
  const row = page.locator(`[data-testid="board"] tr[data-id="${inc.id}"]`);
  await expect(row).toBeVisible({ timeout: 15_000 });
  const timer = row.locator("td.timer");
  await expect(timer).toHaveAttribute("data-deadline", /T/);
  const first = await timer.textContent();
  await expect.poll(async () => timer.textContent(), { timeout: 5_000 }).not.toBe(first);
  await expect(timer).toHaveClass(/t-ok|t-warn|t-late/);

  // Intake: rescue code → elevator, use unit, company and duty phone on one screen.
  await page.goto(`/app/equipment/intake?q=${rescue}`);
  await expect(page.getByTestId("located")).toContainText(rescue);
  await expect(page.getByTestId("located")).toContainText("0599-");
  w.assertClean();
});

test("the KPI page draws its charts", async ({ page }) => {
  const w = watchPage(page);
  await login(page, "analyst");
  await page.goto("/app/equipment/kpi");
  await chartsDrawn(page, 3);
  w.assertClean();
});
