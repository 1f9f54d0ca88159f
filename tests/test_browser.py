"""The browser the page tests use really renders what the bot serves (Chromium over chromium-driver)."""
from __future__ import annotations

from aiohttp import web

from tests.browser import Page
from tests.support import serve


async def test_chromium_renders_a_page_served_on_the_event_loop(page: Page) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="<title>t</title><p id=x>served</p><script>document.title='ran'</script>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/", hello)
    runner, url = await serve(app)
    try:
        await page.open(url)
        from selenium.webdriver.common.by import By
        text = await page.run(lambda: page.driver.find_element(By.ID, "x").text)
        assert text == "served"
        assert page.driver.title == "ran"  # scripts run: a real browser, not an HTML parser
    finally:
        await runner.cleanup()
