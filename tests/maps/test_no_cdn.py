"""No CDN at run time: a map names no script, stylesheet, font or image outside the app, other than
the configured tile server, and every file it names is in static/vendor/ (`make vendor`)."""

import posixpath
import re
from pathlib import Path

import folium
import folium.plugins
import pytest

from outreach.maps import assets
from tests.maps.conftest import ATTRIBUTION, TILES

# What a page can make the browser fetch: src= and href= attributes (also inside a script's
# strings, quotes escaped), CSS url(...) and @import.
REFERENCE = re.compile(
    r"""\b(?:src|href)\s*=\s*\\?(["']?)([^"'\s>\\]+)"""
    r"""|url\(\s*(["']?)(.*?)\3\s*\)"""
    r"""|@import\s+(?:url\()?\s*(["'])(.*?)\5"""
)
ABSOLUTE = re.compile(r"""(?:https?:)?//[^\s"'<>\\)]+""", re.I)


def references(text: str) -> list[str]:
    return [m.group(2) or m.group(4) or m.group(6) for m in REFERENCE.finditer(text)]


def vendor_file(app, url: str) -> Path:
    assert url.startswith(f"{app.static_url_path}/vendor/"), url
    return Path(app.static_folder) / url.removeprefix(f"{app.static_url_path}/")


# The tile server, and the links (not loads) of its attribution.
ALLOWED_OUTSIDE = {TILES, *ABSOLUTE.findall(ATTRIBUTION)}


def test_a_map_references_nothing_outside_the_app(app, every_class_map):
    html = every_class_map.get_root().render()

    refs = references(html)
    assert any(ref.endswith("/leaflet.js") for ref in refs) and any(ref.endswith("/d3.min.js") for ref in refs)
    for ref in refs:
        assert ref.startswith(("/static/", "data:")) or ref in ALLOWED_OUTSIDE, f"the map loads {ref}"

    # Also anywhere in its scripts: an absolute URL is the tile server or its attribution, nothing else.
    outside = set(ABSOLUTE.findall(html)) - ALLOWED_OUTSIDE
    assert not outside, outside
    assert TILES in html


def test_every_library_is_in_static_vendor_with_its_fonts_and_images(app, client, every_class_map):
    html = every_class_map.get_root().render()
    linked = [ref for ref in references(html) if ref.startswith("/static/vendor/")]
    assert len(linked) == len(assets.FILES)  # every library folium and branca know of, in this one map

    for url in linked:
        path = vendor_file(app, url)
        assert path.is_file(), f"{path} is missing: run `make vendor`"
        assert client.get(url).status_code == 200
        if path.suffix != ".css":
            continue
        # What a stylesheet loads resolves beside it, relative to where the app serves it.
        for ref in references(path.read_text(encoding="utf-8")):
            if ref.startswith(("data:", "#")):
                continue
            assert not ABSOLUTE.match(ref) and not ref.startswith("/"), f"{path.name} loads {ref}"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(url), re.split(r"[?#]", ref)[0]))
            assert vendor_file(app, target).is_file(), f"{path.name} loads {ref}: {target} is missing"

    for _source, package, path in assets.ALSO:  # Leaflet's default marker, which leaflet.js loads
        assert (Path(app.static_folder) / "vendor" / package / path).is_file()


def test_a_plugin_with_no_local_copy_fails_instead_of_using_a_cdn(app):
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)  # not vendored: its URL is not in assets.FILES
    with pytest.raises(RuntimeError, match="from outside the app"):
        m.get_root().render()


def test_start_up_refuses_a_map_library_with_no_local_copy(app):
    class UpgradedMap(folium.Map):
        default_js = [*folium.Map.default_js, ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@9.9.9/dist/leaflet.js")]

    try:
        with pytest.raises(RuntimeError, match="leaflet@9.9.9"):
            assets.serve_folium_locally(app)
    finally:
        UpgradedMap.default_js = []  # the class lives on among folium.Map's subclasses
    assets.serve_folium_locally(app)  # idempotent: everything else is already local
    assert all(url.startswith("/static/vendor/") for _name, url in folium.Map.default_js + folium.Map.default_css)
