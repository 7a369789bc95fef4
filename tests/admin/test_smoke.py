from tests.factories.schemes import ready_scheme
from tests.helpers import sign_in


def test_pages_render(client, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    component_id = scheme.components[0].id
    sign_in(client, ours.admin.email)
    for url in [
        "/admin/",
        "/admin/schemes/",
        "/admin/schemes/new/",
        f"/admin/schemes/edit/?id={scheme.id}",
        f"/admin/schemes/details/?id={scheme.id}",
        "/admin/components/",
        "/admin/components/new/",
        f"/admin/components/edit/?id={component_id}",
        "/admin/tariffs/",
        "/admin/tariffs/new/",
        "/admin/claim-windows/",
        "/admin/claim-windows/new/",
        "/admin/questions/",
        "/admin/questions/new/",
        "/admin/offers/",
        "/admin/offers/new/",
        "/admin/schemes/export/csv/",
    ]:
        # Exports stream: read them inside the request (buffered), as a server would.
        response = client.get(url, buffered=True)
        assert response.status_code == 200, url
