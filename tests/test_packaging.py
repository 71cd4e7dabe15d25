"""The package works after a normal (non-editable) install: data travels in the wheel."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ocss_testkit import package_data as resources
from ocss_testkit.routes import ROUTES

ROOT = Path(__file__).resolve().parents[1]


def test_source_checkout_finds_its_data():
    assert (resources.fixtures_dir() / "demo" / "world.json").is_file()
    assert (resources.xsd_dir() / "request" / "syncml-client.xsd").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("ocss_testkit-*.whl")
    return built


def test_wheel_carries_fixtures_schemas_and_entry_point(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for xsd in (ROOT / "xsd").rglob("*.xsd"):
        assert f"ocss_testkit/_data/xsd/{xsd.relative_to(ROOT / 'xsd').as_posix()}" in names
    assert "ocss_testkit/_data/fixtures/demo/world.json" in names
    assert "ocss_testkit/_data/fixtures/phones.json" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "ocss-fake = ocss_testkit.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_unpacked_wheel_serves_without_the_source_tree(wheel, tmp_path):
    """Import the package from the unpacked wheel alone, far from the checkout."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import ocss_testkit, sys\n"
        "from ocss_testkit import make_app\n"
        "from ocss_testkit.client import Credentials, SignedClient\n"
        f"assert ocss_testkit.__file__.startswith({str(site)!r}), ocss_testkit.__file__\n"
        "app = make_app()\n"
        "reply = SignedClient(app, Credentials.of(app, 'admin')).get('/v2/services/syncml/')\n"
        "print(reply.status, reply.body.count(b'<entry>'))\n"
        # The OCSS library ships in the same wheel and needs nothing of the checkout.
        "import ocss\n"
        f"assert ocss.__file__.startswith({str(site)!r}), ocss.__file__\n"
        "from ocss.transport import WSGITransport\n"
        "api = ocss.SyncServerAPI(base_url='http://localhost', transport=WSGITransport(app))\n"
        "print(len(api.phones.vendors['4'].models))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.returncode == 0, result.stderr
    status, entries, models = result.stdout.split()
    assert (status, entries) == ("200", "2")
    assert models.isdigit() and int(models) > 0, result.stdout


def test_route_table_cites_the_api_documents_by_title():
    """Every API route cites one of the three API documents by its own title (never a file
    outside the repository), and documented routes only the two REST API documents."""
    titles = {"Google Data Client API", "SyncML API", "SyncServer API Python interface"}
    for route in ROUTES:
        p = route.provenance
        assert p.kind in ("documented", "inferred"), route
        assert p.doc.title in titles, route
        assert p.kind == "inferred" or p.doc.title != "SyncServer API Python interface", route
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", p.doc.key), p.doc  # the stable key tools use
        assert not re.search(r"\.txt|SPEC|shared/", f"{p.doc.title} {p.section}"), route
