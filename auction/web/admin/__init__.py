"""The admin panel under /admin: only admins see it; everyone else gets 404 on every route.

Views stay thin: each reads the form, calls a service with the admin's id (services check
again and write the audit log), then redirects back with a flash. `panel` holds the
blueprint and the gate; each area's views join it when this package is imported.
"""

from auction.web.admin import moderation, money, overview, reviews, support  # noqa: F401  (their routes join `bp`)
from auction.web.admin.panel import bp

__all__ = ["bp"]
