"""WCAG reflow and focus visibility on the participant page, with questions and a poll on it."""

import pytest
from playwright.async_api import expect

from support import joined
from test_polls import KINDS, create_poll, set_poll

CONTRAST = """([a, b]) => {
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


@pytest.fixture
async def busy(server, event):
    author = await joined(server, event["code"], name="Priya")
    await author.ask("How will the assembly's recommendations be followed up by the board?")
    for kind in ("single", "ranking", "rating"):
        poll = await create_poll(server, event["code"], KINDS[kind])
        await set_poll(server, event["code"], poll["id"], "open")
    yield event
    await author.close()


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "no-js"])
async def test_no_horizontal_scrolling_at_320_px(server, busy, browser, scripts):
    context = await browser.new_context(viewport={"width": 320, "height": 640}, java_script_enabled=scripts)
    page = await context.new_page()
    await page.goto(f"{server.url}/e/{busy['code']}")
    if scripts:
        await expect(page.locator("#connection")).to_have_text("Connected")
        await expect(page.locator("#poll-list .bars")).to_have_count(3)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320


async def test_the_focus_ring_stands_out_from_the_page(server, busy, browser):
    page = await (await browser.new_context(viewport={"width": 360, "height": 740})).new_page()
    await page.goto(f"{server.url}/e/{busy['code']}")
    await page.keyboard.press("Tab")
    colours = await page.evaluate("""() => [getComputedStyle(document.activeElement).outlineColor,
                                             getComputedStyle(document.documentElement).backgroundColor]""")
    assert await page.evaluate(CONTRAST, colours) >= 3
    card = await page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert await page.evaluate(CONTRAST, [colours[0], card]) >= 3
