"""Payments (issue 15): paycodes and, later, the payment run, files and statements.

``models.py`` holds the data, ``services/`` the rules; the paycode list is kept in the
admin (``admin/paycodes.py``).
"""
