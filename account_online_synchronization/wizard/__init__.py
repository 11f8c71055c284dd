from . import online_link_connect
from . import online_sync_reactivate
