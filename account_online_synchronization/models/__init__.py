from . import res_company
from . import online_institution
from . import online_link
from . import online_link_legacy
from . import online_account
from . import account_journal
from . import account_bank_statement_line
