"""An independent, deliberately naive reference model of ``jointplan check --json``.

Written straight from ``plan-format.md``; it imports nothing from ``jointplan``.
"""

from .model import reference_check

__all__ = ["reference_check"]
