"""Translations: complete and safe .po files, a template that follows the code, French for a French user."""
import os
import re
from collections import Counter

import polib
import pytest

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.translate import TRANSLATED_ATTRS, TranslationModuleReader, code_translations

from online_sync_case import OnlineSyncCase

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDONS = ("account_online_synchronization", "account_online_sync")
LANGS = ("fr", "nl", "de")

PLACEHOLDER = re.compile(r"%\([^)]*\)[a-z]|%[a-z%]|\{[\w.]*\}")
TAG = re.compile(r"<(/?)([\w:-]+)((?:\s+[\w:.!-]+(?:=\"[^\"]*\")?)*)\s*(/?)>")
ATTRIBUTE = re.compile(r"([\w:.!-]+)(?:=\"([^\"]*)\")?")


def template(addon):
    return polib.pofile(os.path.join(REPO, addon, "i18n", f"{addon}.pot"))


def translation(addon, lang):
    return polib.pofile(os.path.join(REPO, addon, "i18n", f"{lang}.po"))


def placeholders(text):
    """The format placeholders of ``text``: what Odoo fills in at runtime."""
    return Counter(PLACEHOLDER.findall(text))


def markup(text):
    """The HTML tags of ``text`` with their attributes, less the ones translated with the text (title...)."""
    tags = Counter()
    for closing, name, attributes, self_closing in TAG.findall(text):
        kept = tuple(sorted((key, value) for key, value in ATTRIBUTE.findall(attributes) if key not in TRANSLATED_ATTRS))
        tags[(closing, name, kept, self_closing)] += 1
    return tags


@pytest.mark.parametrize("addon", ADDONS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_term_is_translated_with_its_placeholders_and_tags(addon, lang):
    po = translation(addon, lang)
    assert {e.msgid for e in template(addon)} == {e.msgid for e in po}, "run `make i18n` to merge the template"
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()]
    assert not po.obsolete_entries(), [e.msgid for e in po.obsolete_entries()]
    for entry in po:
        assert placeholders(entry.msgstr) == placeholders(entry.msgid), (entry.msgid, entry.msgstr)
        assert markup(entry.msgstr) == markup(entry.msgid), (entry.msgid, entry.msgstr)


def test_the_checks_see_a_wrong_placeholder_or_tag():
    """The checks above catch what would crash or break a screen."""
    assert placeholders("%(bank)s: %(error)s") != placeholders("%(banque)s : %(error)s")
    assert placeholders("Plaid Link from %s.") != placeholders("Plaid Link depuis %d.")
    assert markup('<span invisible="not sms_available">A code</span>') != markup("<span>Un code</span>")
    assert markup('<i class="fa" title="Where"/>') == markup('<i class="fa" title="Où"/>'), "titles are translated"


@tagged("post_install", "-at_install", "online_sync")
class TestTranslations(OnlineSyncCase):

    def test_the_templates_hold_every_term_of_the_code(self):
        """A string added to the code or views without `make i18n` is reported here."""
        for addon in ADDONS:
            with self.assertNoLogs("odoo.tools.translate", "ERROR"):  # a file Odoo cannot read loses its terms
                exported = {row[4] for row in TranslationModuleReader(self.env.cr, modules=[addon])}
            committed = {entry.msgid for entry in template(addon)}
            self.assertEqual(sorted(exported - committed), [], f"{addon}: terms missing from the .pot: run `make i18n`")
            self.assertEqual(sorted(committed - exported), [], f"{addon}: terms no longer used: run `make i18n`")

    def test_odoo_applies_every_translation(self):
        """Odoo drops a view term whose translation does not fit the view: each one must come out translated."""
        for lang in LANGS:
            code = self.env["res.lang"]._activate_lang(f"{lang}_{lang.upper()}").code  # fr_FR, nl_NL, de_DE
            self.env["ir.module.module"]._load_module_terms(list(ADDONS), [code])
            for addon in ADDONS:
                python = code_translations.get_python_translations(addon, code)
                for entry in translation(addon, lang):
                    for occurrence, _line in entry.occurrences:
                        if occurrence.startswith("code:") and "odoo-python" in entry.comment:
                            self.assertEqual(python.get(entry.msgid), entry.msgstr, (code, entry.msgid))
                        elif occurrence.startswith("model_terms:ir.ui.view,arch_db:"):
                            view = self.env.ref(occurrence.split("arch_db:")[1])
                            terms = view._fields["arch_db"].get_trans_terms(view.with_context(lang=code).arch_db)
                            self.assertIn(" ".join(entry.msgstr.split()), {" ".join(t.split()) for t in terms},
                                          (code, occurrence, entry.msgid))

    def french_user(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(list(ADDONS), ["fr_FR"])
        user = new_test_user(self.env, "julie", groups="account.group_account_manager", lang="fr_FR")
        return self.env(user=user, context=user.with_user(user).context_get())  # as a request of the user

    def test_a_french_user_reads_messages_labels_menus_and_buttons_in_french(self):
        link = self.connect()
        journal = link.account_ids.journal_id
        env = self.french_user()

        result = journal.with_env(env).manual_sync()
        self.assertTrue(result["params"]["message"].startswith("Synchronisation terminée :"), result["params"])
        link.with_env(env).action_disconnect()
        self.assertIn("Déconnecté de Sandbox Bank.", link.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "est déconnectée et ne peut plus être synchronisée"):
            journal.with_env(env).manual_sync()

        self.assertEqual(env["online.link"].fields_get(["auto_sync"])["auto_sync"]["string"],
                         "Synchronisation automatique")
        self.assertEqual(env.ref("account_online_synchronization.menu_online_sync").name, "Synchronisation en ligne")
        form = env["online.link"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('string="Récupérer les transactions"', form)
        self.assertIn('string="Reconnecter"', form)
        self.assertEqual(env.ref("account_online_sync.menu_account_online_provider").name,
                         "Synchronisation en ligne (avant décembre 2020)")

    def test_the_schedule_reads_as_a_sentence_in_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        cron = self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions")
        cron.write({"interval_number": 12, "interval_type": "hours", "active": True})
        settings = self.env["res.config.settings"].with_context(lang="de_DE").create({})
        self.assertEqual(settings.online_sync_schedule, "Alle 12 Stunden")
