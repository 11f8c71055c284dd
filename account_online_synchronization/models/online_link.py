import logging
import re
import secrets
import traceback
from contextlib import contextmanager
from datetime import timedelta

import psycopg2
from markupsafe import Markup
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import SQL

from ..providers import MFARequired, ProviderError, ReauthRequired, get_provider, provider_selection
from ..providers.errors import UnexpectedError
from .online_link_consent import ConsentFailed
from .online_provider_config import SECRET_KEYS

_logger = logging.getLogger(__name__)

#: First key of the PostgreSQL advisory lock taken while a link synchronizes.
LOCK_NAMESPACE = 0x0B5C
#: A link synchronized less than this long ago is skipped by the scheduler.
MIN_REFRESH_INTERVAL = timedelta(hours=1)
#: Failures the scheduler retries by itself: a warning, not an error.
RETRIED_CODES = ("rate_limited", "institution_unavailable")
#: A connection's states.
STATES = [
    ("connected", "Connected"),
    ("action_required", "Action Required"),
    ("error", "Error"),
    ("retrying", "Will Retry"),
    ("disconnected", "Disconnected"),
]
#: Seconds each call of a revocation may take: Disconnect's two rounds end well within a request's time limit.
REVOKE_TIMEOUT = 10


class ImportPaused(Exception):
    """A background import stopped right after a committed chunk because its run's time is up; the next run resumes."""


class OnlineLink(models.Model):
    """One consent at one institution through one aggregator, for one company."""

    _name = "online.link"
    _description = "Online Bank Connection"
    _inherit = ["mail.thread", "online.sync.secret", "online.sync.protected"]
    _order = "name, id"
    _check_company_auto = True
    _secret_fields = {"provider_tokens_encrypted": "provider_tokens", "import_psu_encrypted": None}
    # Connections are created by the consent flow only; the rest is the engine's.
    _user_writable = {
        "account.group_account_user": {"auto_sync"},
        "account.group_account_manager": {"auto_sync", "name", "sandbox_scenario"},
    }

    name = fields.Char(string="Institution", required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    provider = fields.Selection(
        selection=provider_selection, default="sandbox", readonly=True,
        help="Empty for a connection made before December 2020 through an aggregator no longer offered.",
    )
    institution_identifier = fields.Char(string="Institution ID", readonly=True)
    institution_unattended_refresh = fields.Boolean(
        string="Allows Automatic Refresh", default=True, readonly=True,
        help="Some institutions refuse refreshes without the user present: synchronize them manually.",
    )
    institution_max_history_days = fields.Integer(
        string="History Limit (days)", readonly=True,
        help="How far back the institution gives transactions; 0 when unknown.",
    )
    state = fields.Selection(
        selection=STATES,
        default="connected", required=True, readonly=True, tracking=True, index=True,
    )
    auto_sync = fields.Boolean(
        string="Automatic Synchronization", default=True, tracking=True,
        help="Fetch new transactions with the scheduled action (every 12 hours by default).",
    )
    last_refresh = fields.Datetime(string="Last Successful Refresh", readonly=True)
    last_attempt = fields.Datetime(string="Last Attempt", readonly=True, index=True)
    next_refresh = fields.Datetime(compute="_compute_next_refresh")
    consent_expiry = fields.Datetime(string="Consent Valid Until", readonly=True)
    account_ids = fields.One2many("online.account", "link_id", string="Accounts")
    account_count = fields.Integer(compute="_compute_account_count")
    accounts_linked = fields.Boolean(
        compute="_compute_accounts_linked", store=True, string="Accounts Linked",
        help="At least one of its accounts feeds a journal. Until then nothing is synchronized.",
    )
    status = fields.Selection(
        selection=[STATES[0], ("no_account", "No Account Linked"), *STATES[1:]],
        compute="_compute_status", string="Status",
        help="The state of the connection; a connection with no account linked to a journal synchronizes nothing.",
    )
    provider_tokens_encrypted = fields.Text(groups="base.group_system", copy=False, exportable=False)
    error_code = fields.Char(readonly=True, copy=False)
    error_message = fields.Text(readonly=True, copy=False)
    error_reference = fields.Char(
        readonly=True, copy=False, index=True,
        help="Give this reference to support: it identifies the last failure.",
    )
    manual_only_notified = fields.Boolean(readonly=True, copy=False)
    company_sync_blocked = fields.Boolean(related="company_id.online_sync_blocked", string="Blocked")
    company_block_reason = fields.Char(related="company_id.online_sync_block_reason", string="Blocked Because")
    sandbox_scenario = fields.Selection(
        selection=[
            ("normal", "Normal"),
            ("mfa", "Security code required"),
            ("consent_expired", "Consent expired"),
            ("rate_limited", "One refresh per day (rate limited)"),
            ("down", "Bank unavailable"),
            ("gap", "Books a transaction but forgets to send it (balance difference)"),
        ],
        default="normal",
        help="Sandbox only: makes the demo bank answer as a real one does when something goes wrong. Setting it "
             "makes the scheduled synchronization try the connection at once. Security code required: the "
             "scheduled synchronization stops and asks for the code; Synchronize Now, with you present, answers it.",
    )

    @api.depends("auto_sync")
    def _compute_next_refresh(self):
        nextcall = self.env.ref(
            "account_online_synchronization.ir_cron_fetch_online_transactions", raise_if_not_found=False,
        )
        nextcall = nextcall.sudo().active and nextcall.sudo().nextcall
        for link in self:
            link.next_refresh = nextcall if link.auto_sync and link.state != "disconnected" else False

    @api.depends("account_ids.journal_ids")
    def _compute_accounts_linked(self):
        for link in self:
            link.accounts_linked = bool(link.account_ids.journal_ids)

    @api.depends("state", "accounts_linked")
    def _compute_status(self):
        for link in self:
            link.status = "no_account" if link.state == "connected" and not link.accounts_linked else link.state

    @api.depends("account_ids")
    def _compute_account_count(self):
        for link in self:
            link.account_count = len(link.account_ids)

    # provider access ---------------------------------------------------------

    def _get_provider(self):
        self.ensure_one()
        if self.provider == "sandbox":
            provider = get_provider("sandbox", {"scenario": self.sandbox_scenario})
        else:
            provider = self._provider_for(self.provider, self.company_id)
        provider.on_tokens = self._store_issued_tokens
        return provider

    @api.model
    def _provider_for(self, provider_code, company):
        """The connector of ``provider_code`` configured with ``company``'s aggregator settings."""
        return get_provider(provider_code, self.env["online.provider.config"]._get_for(provider_code, company))

    def _get_tokens(self):
        self.ensure_one()
        return self._decrypt(self.sudo().provider_tokens_encrypted) or {}

    def _set_tokens(self, tokens):
        self.ensure_one()
        self.sudo().write({
            "provider_tokens_encrypted": self._encrypt(tokens) if tokens else False,
            "consent_expiry": tokens and self._get_provider().consent_expiry(tokens),
        })

    def _store_issued_tokens(self, tokens):
        """Keep tokens the aggregator has just issued, committed at once: a failure of the next call cannot lose them."""
        self._set_tokens(tokens)
        self._commit()

    def _known_secrets(self, provider=None):
        """The connection's tokens and its aggregator's secret settings: what texts must never show."""
        provider = provider or self._get_provider()
        return [self._get_tokens() if self else {}, [provider.config.get(key) for key in SECRET_KEYS]]

    def _refresh_tokens(self, provider):
        """Refresh the connection's tokens when the provider needs it; return the current ones."""
        tokens = provider.refresh_tokens(self._get_tokens())
        if tokens != self._get_tokens():
            self._set_tokens(tokens)
        return tokens

    # locking -----------------------------------------------------------------

    @contextmanager
    def _sync_lock(self):
        """Hold a session-level advisory lock on the link; yield whether it was obtained.

        It survives the commits made while importing and is released when the
        block ends, or by PostgreSQL when the worker dies.
        """
        self.ensure_one()
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", LOCK_NAMESPACE, self.id))
        locked = cr.fetchone()[0]
        try:
            yield locked
        finally:
            if locked:
                if cr.connection.info.transaction_status == TRANSACTION_STATUS_INERROR:
                    # A database error aborted the transaction, which the caller rolls back
                    # anyway: without this, the unlock fails and the link stays locked
                    # by the pooled connection.
                    cr.rollback()
                cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", LOCK_NAMESPACE, self.id))

    def _commit(self):
        """Commit the work done so far, except inside tests."""
        if self.env["account.move"]._can_commit():
            self.env.cr.commit()

    # buttons -----------------------------------------------------------------

    def action_fetch_transactions(self):
        """Synchronize every linked account now (the user is present)."""
        self._check_resynchronizable()
        return self._synchronize_or_queue()

    def action_fetch_accounts(self):
        """Look for accounts added at the bank; offer every account without a journal for linking."""
        self._check_resynchronizable()
        self._check_manager()
        self.ensure_one()
        try:
            self._fetch_accounts(balances=False)
        except ProviderError as error:
            self._handle_sync_error(error)
            return self._sync_result_notification(self)
        except Exception as error:  # noqa: BLE001 - recorded on the link, traceback in the server log
            if isinstance(error, psycopg2.Error):
                raise
            self._handle_unexpected_error(error)
            return self._sync_result_notification(self)
        self._clear_error()
        unlinked = self.account_ids.filtered(lambda account: not account.journal_ids)
        if not unlinked:
            return self._notification(_("Every account of %(bank)s is already synchronized.", bank=self.name), "info")
        return self.env["online.link.connect"]._open_account_step(self, unlinked)

    def action_update_credentials(self):
        """Send the user through the aggregator's flow to update the bank credentials."""
        return self._restart_consent("update")

    def action_reconnect(self):
        """Renew an expired or revoked consent, keeping accounts, journals and lines."""
        return self._restart_consent("renew")

    def action_disconnect(self):
        """Revoke the consent; journals keep every statement and line already imported."""
        self._check_manager()
        for link in self.filtered(lambda link: link.state != "disconnected"):
            error = link._revoke_at_provider()
            link._set_tokens({})
            link.sudo().write({
                "state": "disconnected", "auto_sync": False, "error_code": False, "error_message": False,
            })
            link.message_post(body=_(
                "Disconnected from %(bank)s. Imported statements are kept; create a new connection to synchronize again.",
                bank=link.name,
            ))
            if error:
                link._post_revocation_failure(error)
        return True

    def action_remove(self):
        """Delete a connection none of whose accounts was linked to a journal, withdrawing the consent."""
        self._check_manager()
        linked = self.filtered("accounts_linked")
        if linked:
            raise UserError(_(
                "%(banks)s feeds journals: disconnect it instead, which keeps its imported statements.",
                banks=", ".join(linked.mapped("name")),
            ))
        for link in self.filtered(lambda link: link.state != "disconnected" and not link.is_legacy):
            error = link._revoke_at_provider()
            if error:
                # The consent may outlive the connection at the aggregator: say so where it stays visible.
                raise UserError(_(
                    "%(provider)s did not confirm that the consent was withdrawn: %(error)s. Try again, or "
                    "Disconnect the connection to keep a trace of it.",
                    provider=link._get_provider().name, error=link._scrub(error.message, link._known_secrets()),
                ))
        self.unlink()
        return {"type": "ir.actions.act_window", "name": _("Connections"), "res_model": "online.link",
                "view_mode": "list,form", "views": [(False, "list"), (False, "form")], "target": "main"}

    def _revoke_at_provider(self):
        """Withdraw the consent at the aggregator, once more with fresh tokens when refused; return the last error."""
        self.ensure_one()
        error = None
        for attempt in (1, 2):
            # A new connector instance forgets the access tokens it holds in memory.
            provider = self._get_provider()
            provider.config.update(retries=0, timeout=min(provider.config.get("timeout") or REVOKE_TIMEOUT,
                                                          REVOKE_TIMEOUT))
            try:
                provider.revoke(self._refresh_tokens(provider) if attempt == 2 else self._get_tokens())
                return None
            except ProviderError as failure:
                error = failure
                _logger.warning("Revoking online link %s failed (attempt %s): %s", self.id, attempt,
                                self._scrub(error.message, self._known_secrets(provider)))
        return error

    @api.model
    def _new_reference(self):
        """A reference for a failure, to find it in the logs and give to support."""
        return f"OBS-{fields.Date.today():%Y%m%d}-{secrets.token_hex(3).upper()}"

    def _post_revocation_failure(self, error):
        """Tell that the aggregator may still hold the consent, and how to withdraw it."""
        provider_name = self._get_provider().name
        reference = self._new_reference()
        message = self._scrub(error.message, self._known_secrets())
        self.message_post(body=Markup("<p><b>%s</b></p><p>%s</p><p>%s</p>") % (
            _("%(provider)s did not confirm that the consent was withdrawn: %(error)s",
              provider=provider_name, error=message),
            _("The consent may still be active at %(provider)s. Withdraw it in your %(provider)s dashboard or at "
              "%(bank)s, or ask %(provider)s support to remove it, giving the reference below.",
              provider=provider_name, bank=self.name),
            _("Reference: %(reference)s", reference=reference)
            + (" " + _("(provider request %(id)s)", id=error.request_id) if error.request_id else ""),
        ))

    def action_reactivate_synchronization(self):
        """Open the dialog lifting the block of the company's bank synchronization."""
        self.ensure_one()
        self._check_manager()
        return self.env["online.sync.reactivate"]._open_for(self.company_id)

    @api.model
    def action_add_bank_account(self):
        """Connections are created by connecting a bank: the Add a Bank Account dialog."""
        return self.env["online.link.connect"]._action_open()

    def action_open_accounts(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Online Accounts"),
            "res_model": "online.account",
            "view_mode": "list,form",
            "domain": [("link_id", "=", self.id)],
            "context": {"default_link_id": self.id},
        }

    def _restart_consent(self, mode):
        """Go through the provider's consent again; the link, its accounts and lines stay."""
        self._check_resynchronizable()
        self._check_manager()
        self.ensure_one()
        consent, redirect_url = self.env["online.link.consent"]._begin(
            self.provider, self.company_id, link=self, mode=mode,
        )
        if isinstance(redirect_url, dict):  # the aggregator's widget, opened in the web client
            return redirect_url
        if redirect_url:
            return {"type": "ir.actions.act_url", "url": redirect_url, "target": "self"}
        consent._finish({})
        return self._notification(self._consent_message(mode), "success")

    def _consent_message(self, mode):
        if mode == "update":
            return _("Credentials updated at %(bank)s.", bank=self.name)
        return _("Consent renewed at %(bank)s.", bank=self.name)

    def _consent_renewed(self, mode):
        """Record a completed update or renewal of the consent."""
        self.ensure_one()
        if self.provider == "sandbox" and self.sandbox_scenario in ("consent_expired", "mfa"):
            # The user has just been through the bank's consent and security steps.
            self.sandbox_scenario = "normal"
        self._clear_error()
        try:
            # Re-key the accounts a new consent gave new ids to, before the next synchronization.
            self._fetch_accounts(balances=False)
        except ProviderError as error:
            _logger.info("Reading the accounts of online link %s after its renewal failed: %s", self.id,
                         self._scrub(error.message, self._known_secrets()))
        for account in self.sudo().account_ids.filtered("last_sync"):
            # Transaction ids may not survive the new consent: recognise what is already imported.
            account.content_match_until = account.last_sync
        self.message_post(body=self._consent_message(mode))
        remaining = self._get_provider().renewals_remaining(self._get_tokens())
        if remaining:
            self.message_post(body=_(
                "%(count)s more bank authorizations of this connection have ended: click Reconnect again for each.",
                count=remaining,
            ))

    @api.model
    def _create_from_consent(self, consent, tokens):
        """Create the connection a completed consent gives access to, with its accounts."""
        institution = consent.institution_id
        link = self.sudo().create({
            "name": institution.name,
            "company_id": consent.company_id.id,
            "provider": consent.provider,
            "institution_identifier": institution.identifier,
            "institution_unattended_refresh": institution.unattended_refresh,
            "institution_max_history_days": institution.max_history_days,
            # Turned on when the first account is linked to a journal: until then there is nothing to synchronize.
            "auto_sync": False,
        })
        link._set_tokens(tokens)
        try:
            accounts = link._fetch_accounts(balances=False)
        except ProviderError as error:
            message = link._scrub(error.message, link._known_secrets())
            raise ConsentFailed(_("The accounts cannot be read: %(error)s", error=message),
                                credentials_rejected=error.credentials_rejected) from None
        link.message_post(body=_("Connected to %(bank)s: %(count)s accounts found.", bank=link.name, count=len(accounts)))
        return link.with_env(self.env)

    def _link_chosen_journal(self, journal, first_sync_date):
        """Link ``journal``, the one this new connection was made for, to its account in the journal's currency,
        synchronized from ``first_sync_date``.

        The journal is checked again: it may have been connected meanwhile, while the user was at the aggregator.
        """
        self.ensure_one()
        account = journal._online_sync_account_for(self.account_ids.filtered(lambda account: not account.journal_ids))
        if journal.company_id != self.company_id or not journal._online_sync_free():
            self.message_post(body=_(
                "%(journal)s was connected to another bank meanwhile: link the accounts of %(bank)s with Link "
                "Accounts.", journal=journal.name, bank=self.name))
        elif not account:
            self.message_post(body=_(
                "No account of %(bank)s is in the currency of %(journal)s: link them with Link Accounts.",
                bank=self.name, journal=journal.name))
        else:
            account._link_to_journal(journal, first_sync_date)
            self.message_post(body=_("%(journal)s receives the transactions of %(account)s.",
                                     journal=journal.name, account=account.name))
            self._queue_import(account)

    def _check_manager(self):
        if not self.env.user.has_group("account.group_account_manager"):
            raise UserError(_("Only accounting administrators can manage bank connections."))

    def _check_resynchronizable(self):
        self.company_id._online_sync_check_not_blocked()
        disconnected = self.filtered(lambda link: link.state == "disconnected")
        if disconnected:
            raise UserError(_(
                "%(banks)s is disconnected and cannot be synchronized any more. "
                "Create a new connection from Accounting > Configuration > Online Synchronization.",
                banks=", ".join(disconnected.mapped("name")),
            ))

    @api.model
    def _notification(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": kind != "success",
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    def _sync_result_notification(self, failures, accounts=None):
        """The notification closing a manual synchronization of ``accounts`` (all by default)."""
        if failures:
            return self._notification("\n".join(
                self.env._("%(bank)s: %(error)s (reference %(reference)s)",
                           bank=link.name, error=link.error_message, reference=link.error_reference)
                + ("\n" + link.status_message if link.state == "retrying" or link.error_needs_manager else "")
                for link in failures
            ), "warning")
        lines = (accounts or self.account_ids).mapped("last_sync_imported")
        count = sum(lines)
        message = _("Synchronization done: 1 new transaction.") if count == 1 else _(
            "Synchronization done: %(count)s new transactions.", count=count)
        return self._notification(message, "success")

    # accounts ----------------------------------------------------------------

    def _fetch_accounts(self, balances=True, provider=None):
        """Create the online accounts the bank reports and we do not know yet; update balances.

        ``balances=False`` lets the aggregator skip the balance calls the bank counts.
        """
        self.ensure_one()
        provider = provider or self._get_provider()
        bank_accounts = provider.list_accounts(self._refresh_tokens(provider), balances=balances)
        known = {account.provider_account_id: account for account in self.account_ids}
        known.update(self._match_renamed_accounts(bank_accounts, known))
        new_vals = []
        for bank_account in bank_accounts:
            vals = {
                "name": bank_account.name,
                "account_number": bank_account.number,
                "number_masked": bank_account.number_masked,
                "bic": bank_account.bic or False,
            }
            if bank_account.balance is not None:
                # A bank that gives no balance this time (e.g. its daily quota is used) leaves the last one.
                vals.update(balance=bank_account.balance, available_balance=bank_account.available_balance,
                            balance_date=bank_account.balance_date or fields.Date.today())
            if bank_account.id in known:
                known[bank_account.id].sudo().write(vals)
                continue
            currency = self.env["res.currency"].with_context(active_test=False).search(
                [("name", "=", bank_account.currency)], limit=1,
            )
            if not currency:
                raise ProviderError(_("The bank reports an unknown currency %(code)s.", code=bank_account.currency))
            new_vals.append(dict(vals, link_id=self.id, provider_account_id=bank_account.id, currency_id=currency.id))
        return self.env["online.account"].sudo().create(new_vals).with_env(self.env)

    def _match_renamed_accounts(self, bank_accounts, known):
        """Map the bank's new account ids onto the accounts that the bank no longer reports.

        A new consent may give an account a new id when the bank shares no
        stable number for it: the same number (or, without one, the same name)
        in the same currency is the same account, which keeps its journal and
        lines and is re-keyed to the new id.
        """
        reported = {bank_account.id for bank_account in bank_accounts}
        gone = [account for key, account in known.items() if key not in reported]
        matched = {}
        for bank_account in bank_accounts:
            if bank_account.id in known or not gone:
                continue
            same = [account for account in gone if account.currency_id.name == bank_account.currency and (
                account.account_number == bank_account.number if bank_account.number or account.account_number
                else account.name == bank_account.name)]
            if len(same) == 1:
                account = same[0]
                gone.remove(account)
                account.sudo().write({
                    "provider_account_id": bank_account.id,
                    "content_match_until": account.last_sync,
                })
                matched[bank_account.id] = account
        return matched

    # synchronization ---------------------------------------------------------

    def _fetch_transactions_as_user(self, unattended, accounts=None):
        """Synchronize on behalf of a user allowed to update the links.

        Importing creates journal entries, which some users allowed to
        synchronize (accounting administrators without full accounting
        rights) cannot do themselves.
        """
        self.check_access("write")
        return self.sudo()._fetch_transactions(unattended, accounts and accounts.sudo()).sudo(False)

    def _fetch_transactions(self, unattended, accounts=None):
        """Synchronize the links' accounts; return the links that failed.

        ``accounts`` restricts the run to some of the links' accounts.
        """
        failures = self.browse()
        for link in self:
            if link.company_id.online_sync_blocked:
                continue
            with link._sync_lock() as locked:
                if not locked:
                    if not unattended:
                        raise link._busy_error()
                    continue
                # Start from a fresh snapshot so that the lines committed by the
                # run that held the lock before are seen by deduplication.
                link._commit()
                if not link._count_synchronization(unattended):
                    continue
                last_line = self.env["account.bank.statement.line"].sudo().search([], order="id desc", limit=1)
                if not link._synchronize(unattended, accounts):
                    failures |= link  # told by its one error message
                elif link.import_state != "running":  # a background import tells its whole run when it ends
                    synced = (accounts or link.account_ids) & link.account_ids.filtered("journal_ids")
                    link._post_import_summary(synced, link._imported_counts(synced, [("id", ">", last_line.id)]))
                # Commit before releasing the lock: the next holder must see every line.
                link._commit()
        return failures

    def _busy_error(self):
        return UserError(_("%(bank)s is being synchronized right now. Try again in a few minutes.", bank=self.name))

    def _count_synchronization(self, unattended):
        """Log the synchronization for storm detection; return False when it blocked the company.

        A background import resuming after a pause continues the synchronization already logged.
        """
        if not self.env.context.get("online_sync_resumed"):
            self.env["online.sync.event"]._record(self.company_id, "sync", link=self)
        if not self.company_id.online_sync_blocked:
            return True
        self._commit()  # the block must outlive the refusal below
        if not unattended:
            self.company_id._online_sync_check_not_blocked()
        return False

    def _synchronize(self, unattended, accounts=None):
        """Import one link's transactions; return True on success."""
        self.ensure_one()
        self.sudo().last_attempt = fields.Datetime.now()
        to_sync = (accounts or self.account_ids) & self.account_ids.filtered("journal_ids")
        needs_balances = False
        try:
            provider = self._get_provider()
            provider.psu = None if unattended else self._present_user()
            tokens = self._refresh_tokens(provider)
            account_errors = []
            failed = self.env["online.account"]
            for account in to_sync:
                # Balances change only with new booked transactions; a first import needs them too.
                first_sync = not account.last_sync
                error = account._synchronize_safely(provider, tokens, unattended)
                if error:
                    account_errors.append(error)
                    failed |= account
                elif first_sync or account.last_sync_imported:
                    needs_balances = True
            self._fetch_accounts(balances=needs_balances, provider=provider)
            # An account whose import stopped midway is not compared: its error is what the user sees.
            (to_sync - failed)._settle_bank_balances()
        except ProviderError as error:
            self._handle_sync_error(error)
            return False
        except Exception as error:  # noqa: BLE001 - recorded on the link, traceback in the server log
            if isinstance(error, (psycopg2.Error, ImportPaused)):
                # A lost transaction: the scheduler rolls back and retries the link. A pause: the next run resumes.
                raise
            self._handle_unexpected_error(error)
            return False
        if account_errors:
            self._handle_sync_error(account_errors[0])
            return False
        self._clear_error()
        self.sudo().last_refresh = fields.Datetime.now()
        return True

    @api.model
    def _present_user(self):
        """The HTTP details of the user who clicked, for aggregators that tell the bank a user is present.

        Those captured when the click was queued, for its background import. None
        outside an HTTP request otherwise (the scheduled action): the bank then
        counts the call among its few unattended refreshes a day.
        """
        if "online_sync_present_user" in self.env.context:
            return self.env.context["online_sync_present_user"]
        if not request:
            return None
        http_request = request.httprequest
        headers = http_request.headers
        details = {
            "ip_address": http_request.remote_addr,
            "user_agent": headers.get("User-Agent"),
            "referer": headers.get("Referer"),
            "accept": headers.get("Accept"),
            "accept_charset": headers.get("Accept-Charset"),
            "accept_encoding": headers.get("Accept-Encoding"),
            "accept_language": headers.get("Accept-Language"),
        }
        return {key: value for key, value in details.items() if value}

    def _clear_error(self):
        for link in self.filtered("error_code"):
            link.message_post(body=_("Synchronization with %(bank)s works again.", bank=link.name))
        self.sudo().write({
            "state": "connected", "error_code": False, "error_message": False, "error_needs_manager": False,
        })

    def _handle_sync_error(self, error):
        """Record a failure on the link; tell the user once per streak of the same error."""
        self.ensure_one()
        if isinstance(error, (ReauthRequired, MFARequired)):
            state = "action_required"
        elif error.code in RETRIED_CODES:
            state = "retrying"
        else:
            state = "error"
        # Aggregators may echo a token or a secret in their error answers.
        known_secrets = self._known_secrets()
        message = self._scrub(error.message, known_secrets)
        request_id = self._scrub(error.request_id, known_secrets)
        # The same error again (a transient one whatever its wording): the streak goes on under its reference.
        repeated = self.error_code == error.code and (error.transient or self.error_message == message)
        reference = self.error_reference if repeated and self.error_reference else self._new_reference()
        _logger.warning(
            "Online synchronization of link %s failed (%s, reference %s, provider request %s): %s",
            self.id, error.code, reference, request_id or "-", message,
        )
        self.sudo().write({
            "state": state,
            "error_code": error.code,
            "error_message": message,
            "error_reference": reference,
            "error_needs_manager": self._needs_manager(error),
        })
        if error.credentials_rejected:
            self.env["online.sync.event"]._record(self.company_id, "invalid_credentials", link=self, detail=message)
        if repeated:
            return
        reference_text = _("Reference: %(reference)s", reference=reference)
        if request_id:
            reference_text += " " + _("(provider request %(id)s)", id=request_id)
        advice = self._error_advice_beyond(error, message)
        body = Markup("<p><b>%s</b></p><p>%s</p><p>%s</p>") % (message, advice, reference_text)
        self.message_post(body=body)
        self._schedule_manager_activities(message, advice, reference)

    def _error_advice_beyond(self, error, message):
        """The advice on ``error`` without the sentences ``message`` already says."""
        sentences = re.split(r"(?<=[.!?])\s+", self._error_advice(error))
        return " ".join(sentence for sentence in sentences if sentence.strip(" .") not in message)

    def _handle_unexpected_error(self, error):
        """Record an exception no connector foresaw like a provider error; its traceback goes to the log only."""
        self.ensure_one()
        self._handle_sync_error(UnexpectedError(_(
            "The data received from %(bank)s could not be processed.", bank=self.name,
        )))
        self._log_unexpected_error(error, self.error_reference)

    def _log_unexpected_error(self, error, reference=None):
        """Log the traceback of ``error``; its text may quote the bank's data: masked and on one line."""
        frames = "".join(traceback.format_tb(error.__traceback__))
        text = self._scrub(f"{type(error).__name__}: {error}", self._get_tokens())
        _logger.error("Unexpected error synchronizing link %s (reference %s):\n%s%s",
                      self.id, reference or "-", frames, text)

    def _error_advice(self, error):
        if getattr(error, "update_credentials", False):
            return _("It is given on the aggregator's or the bank's page, not by a synchronization: ask %(who)s to "
                     "open the connection and click Update Credentials.", who=self._administrators_text())
        advice = {
            "reauth_required": _("Ask %(who)s to open the connection and click Reconnect to renew the consent at "
                                 "the bank.", who=self._administrators_text()),
            "mfa_required": _(
                "The bank asks for a security code, which needs you present: click Synchronize Now on the "
                "dashboard or Fetch Transactions here."
            ),
            "rate_limited": _("The bank limits how often it can be refreshed. The next run will try again."),
            "institution_unavailable": _("The next run will try again."),
            "invalid_configuration": _(
                "The connector settings are wrong: ask %(who)s to check them in the Aggregator Settings, then "
                "to click Fetch Transactions.", who=self._administrators_text()),
        }
        return advice.get(error.code, _(
            "Nothing was lost: the next run will try again from the last imported transaction. "
            "If the problem persists, contact support with the reference below."
        ))

    # scheduler ---------------------------------------------------------------

    @api.model
    def _cron_due_domain(self):
        """The links the scheduler synchronizes now: automatic ones not attempted lately."""
        return [
            ("auto_sync", "=", True),
            ("state", "in", ("connected", "error", "retrying")),
            ("company_id.online_sync_blocked", "=", False),
            ("import_state", "=", False),  # the background import job imports it
            ("accounts_linked", "=", True),
            "|", ("institution_unattended_refresh", "=", True), ("manual_only_notified", "=", False),
            "|", ("last_attempt", "=", False),
            ("last_attempt", "<", fields.Datetime.now() - MIN_REFRESH_INTERVAL),
        ]

    @api.model
    def _cron_fetch_online_transactions(self, batch_size=50):
        """Synchronize the links due for a refresh, a batch at a time."""
        due_domain = self._cron_due_domain()
        links = self.search(due_domain, order="last_attempt asc nulls first, id", limit=batch_size)
        manual_only = links.filtered(lambda link: not link.institution_unattended_refresh)
        manual_only._notify_manual_only()
        crashed = self.browse()
        for link in links - manual_only:
            # Another worker may have synchronized it since the search: read it again.
            link.invalidate_recordset()
            if not link.filtered_domain(due_domain):
                continue
            try:
                link._fetch_transactions(unattended=True)
            except Exception:
                if not self.env["account.move"]._can_commit():
                    raise
                # E.g. a write conflict with another worker: only this link's uncommitted
                # work is lost; it stays due, so the next batch retries it.
                self.env.cr.rollback()
                _logger.exception("Online synchronization of link %s failed; it stays due", link.id)
                crashed |= link
        # Done: the links no longer due, synchronized here or by another worker. The links
        # another worker is synchronizing right now were skipped: they are not left for this run.
        busy = links.filtered_domain(due_domain) - crashed
        remaining = self.search_count(due_domain + [("id", "not in", busy.ids)])
        self.env["ir.cron"]._notify_progress(done=len(links) - len(busy) - len(crashed), remaining=remaining)

    def _notify_manual_only(self):
        """Ask once to turn automatic synchronization off where the bank refuses it."""
        for link in self.filtered(lambda link: not link.manual_only_notified):
            link.message_post(body=_(
                "%(bank)s does not allow transactions to be fetched automatically. Turn Automatic "
                "Synchronization off on this connection and use Synchronize Now on the dashboard instead.",
                bank=link.name,
            ))
        self.sudo().write({"manual_only_notified": True, "last_attempt": fields.Datetime.now()})
