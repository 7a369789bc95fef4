"""The message centre: tasks (claims waiting for the person's action) and messages (the
outcomes of claims that concern them). See ``docs/claims.md``."""

from flask import Blueprint

bp = Blueprint("messages", __name__, template_folder="templates")
