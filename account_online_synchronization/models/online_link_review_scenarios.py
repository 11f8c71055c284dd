from odoo import fields, models


class OnlineLink(models.Model):
    """Sandbox scenarios for missing and duplicate transactions."""

    _inherit = "online.link"

    sandbox_scenario = fields.Selection(
        selection_add=[
            ("late", "Withholds the transactions of 8 to 13 days ago (back to Normal: listed late, missed by runs)"),
            ("twins", "Two card payments of the same amount, day and shop (a true pair, not a duplicate)"),
        ],
        ondelete={"late": "set default", "twins": "set default"},
    )
