import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import create_index

_logger = logging.getLogger(__name__)

#: Suspicious activity: more than ``count`` events of a kind within ``window`` blocks the company.
#: Sync storms scale with the company's connections (``count`` per active connection).
THRESHOLDS = {
    "callback_refused": (5, timedelta(minutes=15)),
    "invalid_credentials": (10, timedelta(hours=1)),
    "sync": (30, timedelta(hours=1)),
}
#: Kinds counted per user: one user's refused callbacks never add up with another's.
PER_USER_KINDS = {"callback_refused"}
#: Wrong phone numbers or codes typed while reactivating, within an hour, before reactivation pauses.
MAX_REACTIVATION_FAILURES = 5
#: Counting events are forgotten after this long; blocks and reactivations are kept.
COUNTER_RETENTION = timedelta(days=7)


class OnlineSyncEvent(models.Model):
    """The security log of a company's bank synchronization.

    Counting events (refused callbacks, invalid-credential errors,
    synchronizations) feed the detection of suspicious activity; blocks and
    reactivations are kept as the company's audit trail.
    """

    _name = "online.sync.event"
    _description = "Bank Synchronization Security Event"
    _order = "id desc"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    kind = fields.Selection(
        [
            ("callback_refused", "Refused consent callback"),
            ("invalid_credentials", "Invalid credentials"),
            ("sync", "Synchronization"),
            ("block", "Blocked"),
            ("reactivation_refused", "Reactivation refused"),
            ("code_sent", "Verification code sent"),
            ("reactivation", "Reactivated"),
        ],
        required=True, readonly=True,
    )
    user_id = fields.Many2one("res.users", readonly=True, ondelete="set null")
    link_id = fields.Many2one("online.link", string="Connection", readonly=True, ondelete="set null",
                              check_company=True)
    detail = fields.Char(readonly=True)

    def init(self):
        create_index(self.env.cr, "online_sync_event_counting_idx", self._table, ["company_id", "kind", "create_date"])

    @api.model
    def _record(self, company, kind, link=None, detail=None):
        """Log ``kind`` for ``company``; block the company when it crosses the kind's threshold."""
        self.sudo().create({
            "company_id": company.id,
            "kind": kind,
            "user_id": self.env.uid,
            "link_id": link and link.id,
            "detail": detail and detail[:200],
        })
        user = self.env.user if kind in PER_USER_KINDS else None
        if kind in THRESHOLDS and not company.online_sync_blocked and self._count_recent(company, kind, user=user) > \
                self._threshold(company, kind):
            company._online_sync_block(self._reason(kind))

    @api.model
    def _count_recent(self, company, kind, window=None, user=None):
        """Events of ``kind`` within ``window`` (of ``user`` only, if given); a reactivation starts the count afresh."""
        reactivation = self.sudo().search(
            [("company_id", "=", company.id), ("kind", "=", "reactivation")], order="id desc", limit=1,
        )
        return self.sudo().search_count([
            ("company_id", "=", company.id),
            ("kind", "=", kind),
            ("create_date", ">=", fields.Datetime.now() - (window or THRESHOLDS[kind][1])),
            ("id", ">", reactivation.id or 0),
            *([("user_id", "=", user.id)] if user else []),
        ])

    @api.model
    def _threshold(self, company, kind):
        count = THRESHOLDS[kind][0]
        if kind == "sync":
            links = self.env["online.link"].sudo().search_count([
                ("company_id", "=", company.id), ("state", "!=", "disconnected"),
            ])
            count *= max(links, 1)
        return count

    @api.model
    def _reason(self, kind):
        count, window = THRESHOLDS[kind]
        minutes = int(window.total_seconds() // 60)
        return {
            "callback_refused": _(
                "more than %(count)s bank consent callbacks with an invalid or foreign request were refused "
                "within %(minutes)s minutes", count=count, minutes=minutes),
            "invalid_credentials": _(
                "the aggregator rejected the credentials more than %(count)s times within %(minutes)s minutes",
                count=count, minutes=minutes),
            "sync": _(
                "more than %(count)s synchronizations per connection were requested within %(minutes)s minutes, "
                "far above what the banks allow", count=count, minutes=minutes),
        }[kind]

    @api.autovacuum
    def _gc_counters(self):
        """Forget old counting events; the audit trail of blocks and reactivations stays."""
        self.sudo().search([
            ("kind", "in", ("callback_refused", "invalid_credentials", "sync", "code_sent")),
            ("create_date", "<", fields.Datetime.now() - COUNTER_RETENTION),
        ]).unlink()
