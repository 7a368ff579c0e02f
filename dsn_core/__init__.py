"""DSN core: send notifications when Django signals fire.

The public API for plugin authors is ``hookimpl`` plus the base classes in
:mod:`dsn_core.messengers`, :mod:`dsn_core.message_templates` and
:mod:`dsn_core.resolvers`. Nothing here imports Django models, so a plugin module can
import ``dsn_core`` at any time.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Marks a function in a plugin module as an implementation of a DSN hook.
hookimpl = pluggy.HookimplMarker("dsn")

__all__ = ["__version__", "hookimpl"]
