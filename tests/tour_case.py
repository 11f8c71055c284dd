"""Odoo tours in Chromium; a step logging ``online_sync_screenshot <name>`` saves the page as <name>.png
in $ONLINE_SYNC_SCREENSHOTS (no screenshot without it)."""
import base64
import os

from odoo.tests import HttpCase
from odoo.tests.common import ChromeBrowser

SIGNAL = "online_sync_screenshot "


class TourCase(HttpCase):

    def setUp(self):
        super().setUp()
        folder = os.environ.get("ONLINE_SYNC_SCREENSHOTS")
        if not folder:
            return
        os.makedirs(folder, exist_ok=True)
        handle_console = ChromeBrowser._handle_console

        def save(name, future):
            data = future.result(timeout=0).get("data")
            if data:
                with open(os.path.join(folder, f"{name}.png"), "wb") as file:
                    file.write(base64.b64decode(data))

        def handle_console_and_screenshots(browser, type, args=None, **kw):  # noqa: A002 - Chrome's name
            handle_console(browser, type, args, **kw)
            message = str(browser._from_remoteobject(args[0])) if args else ""
            if message.startswith(SIGNAL):
                name = "".join(c for c in message.removeprefix(SIGNAL) if c.isalnum() or c == "_")
                browser._websocket_send("Page.captureScreenshot", with_future=True).add_done_callback(
                    lambda future: save(name, future))

        self.patch(ChromeBrowser, "_handle_console", handle_console_and_screenshots)
