from . import account_online_provider
from . import account_online_journal
from . import account_journal
