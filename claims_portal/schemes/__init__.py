"""Local schemes: components, tariffs, claim windows, questions and offers (issue 5)."""

from flask import Blueprint

bp = Blueprint("schemes", __name__, template_folder="templates")
