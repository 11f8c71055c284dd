from odoo import models


class OnlineSyncDialog(models.AbstractModel):
    """A wizard whose buttons show it again, as a dialog titled with its translated description."""

    _name = "online.sync.dialog"
    _description = "Bank Synchronization Dialog"

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env["ir.model"]._get(self._name).name,
        }
