"""No CDN at run time: every script and stylesheet that folium and branca ask for is served by the
app from static/vendor/, which set-up (`make vendor`) fills from registry packages: the npm packages
pinned in package.json (node_modules/), and folium's own PyPI distributions for the two files folium
hosts itself. Nothing in static/vendor/ is committed.

``serve_folium_locally(app)``, called once by create_app, points folium at those copies. It refuses to
start if a class our maps use asks for a URL with no local copy (a folium upgrade that changes a
library cannot bring a CDN back), and any other URL outside the app that a map would load raises
when the map is rendered. Tile URLs are not links of this kind: MAP_TILES_URL configures them.

``install()`` (run by `make vendor` after `npm ci`) fills static/vendor/, with the maps' files and the
app's own (``OWN``: axe-core, which the suite's page check runs in every page).
"""

import importlib.metadata
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import folium
import folium.plugins  # every plugin class exists before serve_folium_locally walks them
from branca.element import Element, Link
from flask import Flask
from folium.elements import JSCSSMixin

ROOT = Path(__file__).resolve().parents[2]

# Each URL folium 0.20 / branca 0.8 asks for, by its path (the hosts are CDNs we never call) ->
# (source, package, path inside the package); it is
# served at /static/vendor/<package>/<path>. Sources: "npm" is node_modules/<package> (package.json
# pins the version folium names); "wheel" is the installed folium; "sdist" is folium's source
# distribution of the installed version, the only registry file holding its rotate stylesheet.
FILES: dict[str, tuple[str, str, str]] = {
    # folium.Map
    "/npm/leaflet@1.9.3/dist/leaflet.js": ("npm", "leaflet", "dist/leaflet.js"),
    "/npm/leaflet@1.9.3/dist/leaflet.css": ("npm", "leaflet", "dist/leaflet.css"),
    "/jquery-3.7.1.min.js": ("npm", "jquery", "dist/jquery.min.js"),
    "/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "npm",
        "bootstrap",
        "dist/js/bootstrap.bundle.min.js",
    ),
    "/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "npm",
        "bootstrap",
        "dist/css/bootstrap.min.css",
    ),
    # Bootstrap 3's glyphicons (folium.Icon's default prefix): the glyphicon rules alone, fonts
    # identical to Bootstrap 3.4.1's.
    "/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "npm",
        "@neos21/bootstrap3-glyphicons",
        "dist/css/bootstrap3-glyphicons.min.css",
    ),
    "/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "npm",
        "@fortawesome/fontawesome-free",
        "css/all.min.css",
    ),
    # Leaflet.awesome-markers 2.0.2 as released (the npm package of that name is a later fork).
    "/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "npm",
        "drmonty-leaflet-awesome-markers",
        "js/leaflet.awesome-markers.js",
    ),
    "/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "npm",
        "drmonty-leaflet-awesome-markers",
        "css/leaflet.awesome-markers.css",
    ),
    "/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "sdist",
        "folium",
        "templates/leaflet.awesome.rotate.css",
    ),
    # folium.plugins.MarkerCluster and FastMarkerCluster
    "/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "npm",
        "leaflet.markercluster",
        "dist/leaflet.markercluster.js",
    ),
    "/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "npm",
        "leaflet.markercluster",
        "dist/MarkerCluster.css",
    ),
    "/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "npm",
        "leaflet.markercluster",
        "dist/MarkerCluster.Default.css",
    ),
    # folium.plugins.HeatMap: leaflet.heat with folium's fix for weights, shipped in folium's wheel.
    "/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (
        "wheel",
        "folium",
        "templates/leaflet_heat.min.js",
    ),
    # branca's colour legend (StepColormap, LinearColormap): d3 version 3, named in ColorMap.render.
    "/ajax/libs/d3/3.5.5/d3.min.js": ("npm", "d3", "d3.min.js"),
}

# Files a script loads by itself (no stylesheet names them): Leaflet's default marker, found next to
# the marker-icon.png that leaflet.css names.
ALSO: tuple[tuple[str, str, str], ...] = (
    ("npm", "leaflet", "dist/images/marker-icon-2x.png"),
    ("npm", "leaflet", "dist/images/marker-shadow.png"),
)

# Libraries the app serves for its own use, not folium's: axe-core, the accessibility rules that the page
# check of the test suite (tests/e2e/test_every_page.py) runs in every page of every role.
OWN: tuple[tuple[str, str, str], ...] = (("npm", "axe-core", "axe.min.js"),)

_local: dict[str, str] = {}  # the path of folium's URL -> the app's URL, once serve_folium_locally has run


def _local_url(url: str) -> str:
    """The app's copy of a library folium names, or the URL unchanged when there is none."""
    return _local.get(urlsplit(url.strip()).path, url) if _external(url) else url


def _external(url: str) -> bool:
    """A URL the browser would fetch from another host (data: and paths on this host are not)."""
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme.lower() not in ("", "data")


def _subclasses(cls: type[object]) -> Iterator[type[object]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _render_link(self, **kwargs):
    """branca's Link.render (every <script src> and <link href> of a map), local or refused."""
    self.url = _local_url(self.url)
    if _external(self.url):
        raise RuntimeError(
            f"A map would load {self.url} from outside the app. Add the package that has it to "
            "package.json and the URL to FILES in outreach/maps/assets.py, or do without it."
        )
    return Element.render(self, **kwargs)


def serve_folium_locally(app: Flask) -> None:
    """Point every script and stylesheet folium and branca ask for at /static/vendor/."""
    prefix = f"{app.static_url_path}/vendor"
    _local.update({url: f"{prefix}/{package}/{path}" for url, (_source, package, path) in FILES.items()})
    Link.render = _render_link  # type: ignore[method-assign]  # a deliberate patch of branca's class

    # The classes our maps use (and their subclasses, such as a Map with fewer libraries) must have a
    # local copy of everything now; another plugin with a URL not in FILES fails when it is rendered.
    required = (folium.Map, folium.plugins.MarkerCluster, folium.plugins.HeatMap)
    missing = []
    for cls in _subclasses(JSCSSMixin):
        for attr in ("default_js", "default_css"):
            links = vars(cls).get(attr)
            if not links:
                continue
            unmapped = [url for _name, url in links if _external(_local_url(url))]
            if unmapped and issubclass(cls, required):
                missing += [f"{cls.__module__}.{cls.__qualname__}.{attr}: {url}" for url in unmapped]
            setattr(cls, attr, [(name, _local_url(url)) for name, url in links])
    if missing:
        raise RuntimeError(
            "folium asks for files with no local copy (a folium or branca upgrade?): "
            + "; ".join(missing)
            + ". Pin the matching npm packages in package.json and map the URLs in FILES "
            "(outreach/maps/assets.py)."
        )

    vendor = Path(app.static_folder or ROOT / "static") / "vendor"
    absent = [
        f"{package}/{path}" for _source, package, path in FILES.values() if not (vendor / package / path).is_file()
    ]
    if absent:
        app.logger.warning(
            "Maps will lack %s (not in %s): run `make vendor` (needs Node.js and npm).",
            ", ".join(absent),
            vendor,
        )


# --- set-up: fill static/vendor/ -------------------------------------------------------------------

_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""")
_SOURCE_MAP = re.compile(r"[#@]\s*sourceMappingURL=([^\s*]+)")


def _folium_sdist(workdir: Path) -> Path:
    """folium's source distribution of the installed version, from PyPI, unpacked: its folium/ folder."""
    version = importlib.metadata.version("folium")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", "folium",
         f"folium=={version}", "--dest", str(workdir)],
        check=True,
    )  # fmt: skip
    (archive,) = workdir.glob("folium-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / f"folium-{version}" / "folium"


def _references(path: str, text: str) -> Iterator[str]:
    """Paths (inside the same package) that a stylesheet loads, and a source map if one is named."""
    refs = [m.group(2) or m.group(4) for m in _CSS_URL.finditer(text)] if path.endswith(".css") else []
    for ref in refs:
        ref = ref.strip()
        if not ref or ref.startswith(("data:", "#")):
            continue
        if _external(ref) or ref.startswith("/"):
            raise RuntimeError(f"{path} loads {ref}: a vendored stylesheet must only load files beside it")
        yield posixpath.normpath(posixpath.join(posixpath.dirname(path), ref.split("#")[0].split("?")[0]))
    for ref in _SOURCE_MAP.findall(text[-500:]):
        yield posixpath.normpath(posixpath.join(posixpath.dirname(path), ref))


def install(root: Path = ROOT) -> list[Path]:
    """Copy the files of FILES, and what their stylesheets load (fonts, images), from node_modules/
    (after `npm ci`) and folium's distributions into static/vendor/, replacing what was there."""
    vendor = root / "static" / "vendor"
    shutil.rmtree(vendor, ignore_errors=True)
    copied: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        roots: dict[str, Path] = {"wheel": Path(folium.__file__).parent}
        if any(source == "sdist" for source, _package, _path in FILES.values()):
            roots["sdist"] = _folium_sdist(Path(tmp))
        queue = [(source, package, path, True) for source, package, path in (*FILES.values(), *ALSO, *OWN)]
        seen = set()
        while queue:
            source, package, path, required = queue.pop()
            if (package, path) in seen:
                continue
            seen.add((package, path))
            base = root / "node_modules" / package if source == "npm" else roots[source]
            src, dst = base / path, vendor / package / path
            if path.startswith("../") or not src.is_file():
                if not required:
                    continue  # a source map the package does not ship: only developer tools ask for it
                hint = " (run `npm ci` first)" if source == "npm" else ""
                raise FileNotFoundError(f"{src} is missing{hint}")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied.append(dst)
            if path.endswith((".css", ".js")):
                text = src.read_text(encoding="utf-8", errors="replace")
                for ref in _references(path, text):
                    queue.append((source, package, ref, not ref.endswith(".map")))
        # The licences go along with the files.
        for source, package in {(source, package) for source, package, _path in (*FILES.values(), *OWN)}:
            if source == "npm":
                licences = [
                    p for p in (root / "node_modules" / package).iterdir() if "LICEN" in p.name.upper() and p.is_file()
                ]
            else:
                dist = importlib.metadata.distribution("folium")
                licences = [Path(str(dist.locate_file(f))) for f in dist.files or () if "LICEN" in f.name.upper()]
            for licence in licences:
                dst = vendor / package / licence.name
                if not dst.exists():
                    shutil.copyfile(licence, dst)
                    copied.append(dst)
    return copied
