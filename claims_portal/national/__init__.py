"""National quality services (issue 16): QOF, enhanced services and vaccinations per
financial year, their offers and participation, achievement data (extracts and manual entry)
and the achievement the calculation core works out from it.

``models.py`` holds the data, ``services/`` the rules, ``views/`` the pages, ``data/`` the
versioned files of each year's services that the project ships.
"""

from flask import Blueprint

bp = Blueprint("national", __name__, template_folder="templates", url_prefix="/national")
