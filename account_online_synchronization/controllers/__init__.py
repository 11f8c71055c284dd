from . import main
from . import plaid
