"""The judgebench dashboard: a Dash app over the store (``judgebench dashboard --db URL``).

Importing this package does not import Dash; use ``judgebench.dashboard.app.create_app``.
"""
