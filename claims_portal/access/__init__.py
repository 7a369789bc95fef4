"""Accounts, sign-in, roles and capabilities."""

from flask import Blueprint

bp = Blueprint("access", __name__, template_folder="templates")
