from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    def session_info(self):
        """Tell the web client when a summary of a background import waits for its user.

        The end of the import may have come while none of his pages could see it.
        """
        info = super().session_info()
        if self.env.user._is_internal():
            info["online_import_summaries"] = bool(self.env["online.link"].sudo().search_count(
                [("import_summary_user_id", "=", self.env.uid)], limit=1,
            ))
        return info
