"""Claims against local schemes and their approval chains (issue 6)."""

from flask import Blueprint

bp = Blueprint("claims", __name__, template_folder="templates")
