"""Static files carry their content's fingerprint in their name, so a release is never stale: nginx,
the browser and the service worker keep them for a year, and a changed file has a new name."""

import hashlib
import re
from pathlib import Path

from outreach.ops.static import digest_of, fingerprinted

STATIC = Path(__file__).resolve().parents[2] / "static"


def _digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def test_pages_link_fingerprinted_files_kept_for_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    css = f"/static/css/app.{_digest('css/app.css')}.css"
    assert css in page
    response = client.get(css)
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "css/app.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_name_without_or_with_an_old_fingerprint_is_not_kept(client):
    plain = client.get("/static/css/app.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("Cache-Control", "")
    old = client.get("/static/css/app.000000000000.css")  # a page of the last release asks
    assert old.status_code == 200 and "immutable" not in old.headers.get("Cache-Control", "")
    assert client.get("/static/css/none.000000000000.css").status_code == 404


def test_the_service_worker_caches_the_releases_names(client):
    worker = client.get("/sw.js").get_data(as_text=True)
    assert f'importScripts("/static/js/outbox.{_digest("js/outbox.js")}.js")' in worker
    shell = re.search(r"var SHELL = (\[.*?\]);", worker).group(1)
    assert f"/static/js/today.{_digest('js/today.js')}.js" in shell
    assert "/static/js/today.js" not in shell


def test_a_changed_file_gets_a_new_name(tmp_path):
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "field.js"
    script.write_text("var a = 1;")
    first = fingerprinted(tmp_path, "js/field.js")
    assert re.fullmatch(r"js/field\.[0-9a-f]{12}\.js", first)
    script.write_text("var a = 2; // the next release")
    second = fingerprinted(tmp_path, "js/field.js")
    assert second != first and digest_of(script) in second
    # Left alone: a file that is not there, one without a suffix, one fingerprinted already.
    assert fingerprinted(tmp_path, "js/missing.js") == "js/missing.js"
    (tmp_path / "LICENSE").write_text("MIT")
    assert fingerprinted(tmp_path, "LICENSE") == "LICENSE"
    assert fingerprinted(tmp_path, first) == first
