from . import online_sync_dialog
from . import online_link_connect
from . import online_sync_reactivate
from . import online_review_base
from . import online_missing_transactions
from . import online_duplicate_transactions
