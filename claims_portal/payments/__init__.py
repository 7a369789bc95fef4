"""Payments (issue 15): paycodes, scheme and ICB payment settings, and the payment run's
files and calendar.

``models.py`` holds the data, ``services/`` the rules; the paycode list is kept in the
admin (``admin/paycodes.py``); ``views/`` holds the pages (one module each).
"""

from flask import Blueprint

bp = Blueprint("payments", __name__, template_folder="templates")
