#!/usr/bin/env python3
"""Merge a translation template into the .po files beside it: `python3 scripts/i18n_merge.py ADDON/i18n/ADDON.pot`.

New terms come in untranslated, removed terms are dropped (not kept as obsolete), entries
follow the template's order, and each file then says how many of its terms are still to translate.
"""
import glob
import os
import sys

import polib


def merge(pot_path):
    template = polib.pofile(pot_path)
    for po_path in sorted(glob.glob(os.path.join(os.path.dirname(pot_path), "*.po"))):
        po = polib.pofile(po_path)
        po.merge(template)
        for entry in po.obsolete_entries():
            po.remove(entry)
        order = {entry.msgid: index for index, entry in enumerate(template)}
        po.sort(key=lambda entry: order[entry.msgid])  # the template's order, not new terms last
        po.save()
        todo = len(po.untranslated_entries()) + len(po.fuzzy_entries())
        print(f"{po_path}: {len(po)} terms, {todo} to translate")


if __name__ == "__main__":
    merge(sys.argv[1])
