"""The Apps page of the addon: its description, as Odoo sanitizes it, shows every screenshot it names."""
import ast

from lxml import html

from odoo.modules.module import get_module_path
from odoo.tests import tagged

from tour_case import TourCase

MODULE = "account_online_synchronization"


@tagged("post_install", "-at_install", "online_sync")
class TestAppsDescription(TourCase):

    def module(self, name=MODULE):
        return self.env["ir.module.module"].search([("name", "=", name)])

    def images(self, description):
        return [img.get("src") for img in html.fromstring(description).iter("img")]

    def test_the_description_keeps_every_screenshot_and_odoo_serves_them(self):
        with open(f"{get_module_path(MODULE)}/static/description/index.html", encoding="utf-8") as file:
            written = self.images(file.read())
        shown = self.images(self.module().description_html)
        self.assertGreaterEqual(len(written), 5, "the page shows the product's screens")
        self.assertEqual(shown, [f"/{MODULE}/static/description/{src}" for src in written],
                         "the sanitized description keeps each image, at the addon's URL")
        with open(f"{get_module_path(MODULE)}/__manifest__.py", encoding="utf-8") as file:
            manifest_images = ast.literal_eval(file.read())["images"]
        for url in shown + [f"/{MODULE}/{path}" for path in manifest_images]:
            response = self.url_open(url)
            self.assertEqual((response.status_code, response.headers["Content-Type"]), (200, "image/png"), url)

    def test_apps_shows_the_page_with_its_screenshots(self):
        module = self.module()
        code = f"""
            const images = [...document.querySelectorAll(".o_field_widget[name=description_html] img")];
            const broken = images.filter((img) => !img.naturalWidth).map((img) => img.src);
            if (images.length !== {len(self.images(module.description_html))} || broken.length) {{
                console.error(`images shown: ${{images.length}}, not loaded: ${{broken}}`);
            }} else {{
                console.log("online_sync_screenshot apps_description");
                setTimeout(() => console.log("test successful"), 1000);
            }}
        """
        ready = ("[...document.querySelectorAll('.o_field_widget[name=description_html] img')]"
                 ".some((img) => img.complete) && [...document.querySelectorAll("
                 "'.o_field_widget[name=description_html] img')].every((img) => img.complete)")
        self.browser_js(f"/odoo/action-base.open_module_tree/{module.id}", code, ready=ready, login="admin")

    def test_the_former_addon_says_it_only_keeps_old_data(self):
        description = html.fromstring(self.module("account_online_sync").description_html).text_content()
        self.assertIn("never contacts a bank", description)
        self.assertIn("account_online_synchronization", description)
