"""Registry handlers, one module per kind of fact: parse, decide with the rules, store, emit.

Importing this package registers every handler in ``handlers``.
"""

from services.registry.handlers import categories, convictions, custody, management, notifications
from services.registry.handlers.resolve import handlers

__all__ = ["categories", "convictions", "custody", "handlers", "management", "notifications"]
