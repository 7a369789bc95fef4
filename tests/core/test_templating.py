"""templating.py: templates' globals answer "which keys?" from the environment's dict while
a template has none of its own, and imports see exactly what Jinja's own ChainMap shows."""

from __future__ import annotations

from collections import ChainMap

from jinja2 import DictLoader

from claims_portal.templating import PortalEnvironment

TEMPLATES = {
    "macros.html": "{% macro greet() %}{{ greeting | default('nobody') }}{% endmacro %}",
    "page.html": '{% from "macros.html" import greet %}[{{ greet() }}]',
}


def _environment(app):
    environment = PortalEnvironment(app, loader=DictLoader(TEMPLATES), autoescape=True)
    environment.globals["site"] = "claims-portal"
    return environment


def test_the_portals_templates_see_the_environments_globals_as_a_chainmap_would(app):
    assert isinstance(app.jinja_env, PortalEnvironment)
    template = app.jinja_env.get_template("layout.html")
    plain = ChainMap({}, app.jinja_env.globals)
    assert set(template.globals.keys()) == set(plain.keys())
    assert list(template.globals) == list(plain)
    app.jinja_env.globals["added_after_loading"] = 1
    try:
        assert template.globals.keys() >= {"added_after_loading"}
        assert {"added_after_loading"} - template.globals.keys() == set()
    finally:
        del app.jinja_env.globals["added_after_loading"]
    assert template.globals.keys().isdisjoint({"added_after_loading"})


def test_a_template_with_globals_of_its_own_passes_them_to_what_it_imports(app):
    environment = _environment(app)
    assert environment.get_template("page.html").render() == "[nobody]"
    given = environment.get_template("page.html", globals={"greeting": "hello <b>"})
    assert given.globals.keys() >= {"greeting"}
    assert set(given.globals) == {"greeting", *environment.globals}
    assert given.render() == "[hello &lt;b&gt;]"
    # The imported template, without globals of its own, still sees only the shared ones.
    assert environment.get_template("macros.html").globals.keys().isdisjoint({"greeting"})
