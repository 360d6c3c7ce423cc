"""Plain errors: a code, a title, an explanation and actions, never a traceback."""

from peftstudio.errors.catalog import CATALOG, as_plain, log_exception, make
from peftstudio.errors.plain import Action, ErrorInfo, PlainError

__all__ = ["CATALOG", "Action", "ErrorInfo", "PlainError", "as_plain", "log_exception", "make"]
