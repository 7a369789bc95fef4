"""Home page, organisation switcher, health checks and front-end assets."""

from flask import Blueprint

bp = Blueprint("core", __name__, template_folder="templates")
