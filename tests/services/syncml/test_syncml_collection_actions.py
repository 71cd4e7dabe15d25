"""003's endpoint tables list setup and sync on the collection; the examples act per client."""
import pytest

from ocss_testkit.routes import ROUTES


@pytest.mark.parametrize("action", ["setup", "sync"])
@pytest.mark.parametrize("slash", ["/", ""])
def test_collection_level_action_names_the_per_client_url(client, fake, action, slash):
    before = fake.app.world.to_dict()
    reply = client("admin").post(f"/v2/services/syncml/{action}{slash}",
                                 '<entry xmlns="http://www.w3.org/2005/Atom"/>')
    assert (reply.status, reply.reason) == (400, "No client ID provided")
    assert f"/v2/services/syncml/{{uuid}}/{action}/" in reply.text
    assert fake.app.world.to_dict() == before


def test_collection_level_actions_are_marked_inferred():
    routes = {(r.method, r.path): r for r in ROUTES}
    for action in ("setup", "sync"):
        assert routes[("POST", f"/v2/services/syncml/{action}/")].provenance.kind == "inferred"
