"""Folium map builders: rows in, HTML out. Pure functions (no database, no request), so they can be
tested and measured alone. Every text put on a map is escaped here: names come from people."""

import dataclasses
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster, HeatMap
from folium.template import Template
from markupsafe import escape

# Five classes of a share (%), and a grey "no data" that is never confused with zero.
CLASSES = ((0, 20, "#fee5d9"), (20, 40, "#fcae91"), (40, 60, "#fb6a4a"), (60, 80, "#de2d26"), (80, 100.01, "#a50f15"))
# A change in online rate, in percentage points: falls in purple, rises in green.
CHANGE_CLASSES = (
    (-100, -5, "#7b3294"),
    (-5, 0, "#c2a5cf"),
    (0, 5, "#d9f0d3"),
    (5, 10, "#5aae61"),
    (10, 100.01, "#00441b"),
)
# The gap to the province's target, in points below it: reached (0 or above the target) in green.
GAP_CLASSES = (
    (-100, 0.05, "#1a9850"),
    (0.05, 10, "#fee08b"),
    (10, 30, "#fdae61"),
    (30, 50, "#f46d43"),
    (50, 100.01, "#a50026"),
)
NO_DATA = "#bdbdbd"
STATUS_COLOURS = {
    "not_visited": "#9e9e9e",
    "nobody_home": "#a6cee3",
    "visited": "#1f78b4",
    "helped": "#33a02c",
    "follow_up": "#ff7f00",
}

# What folium writes for a page of its own, and would break ours: its viewport tag (no zoom), and
# global html/body and #map rules.
_PAGE_RULES = re.compile(
    r"<meta name=\"viewport\".*?/>|<style>\s*html, body \{.*?</style>|<style>\s*#map \{.*?</style>", re.S
)


@dataclass
class MapParts:
    """A rendered map in three parts for the page's template: what goes in <head>, the map's <div>,
    and its script. Folium's full-document wrapper (global html/body styles, its viewport tag) is
    left out, so the map sits in the page like any other element."""

    header: str
    body: str
    script: str

    @property
    def size(self) -> int:
        return len(self.header) + len(self.body) + len(self.script)


@dataclass(frozen=True)
class MapWords:
    """What Leaflet writes on a map's controls, in the user's language (Leaflet's own English by default)."""

    zoom_in: str = "Zoom in"
    zoom_out: str = "Zoom out"
    layers: str = "Layers"
    close: str = "Close popup"


class _Map(folium.Map):
    # Leaflet, and jQuery (folium's popups are built with it); no Bootstrap or icon fonts, which would
    # restyle the page around the map.
    default_js = [(name, url) for name, url in folium.Map.default_js if name in ("leaflet", "jquery")]
    default_css = [(name, url) for name, url in folium.Map.default_css if name == "leaflet_css"]
    words = MapWords()


class _Controls(MacroElement):
    """The map's controls in the user's words, added after every layer and control of the map: zoom
    buttons, a metric scale (never miles and feet), the layers button, and the popups' close button.
    A popup opens clear of the zoom buttons: Leaflet pans the map until the popup is below them."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, words) {
          var zoom = L.control.zoom({zoomInTitle: words.zoom_in, zoomOutTitle: words.zoom_out}).addTo(map);
          L.control.scale({metric: true, imperial: false}).addTo(map);
          map.attributionControl.setPrefix("Leaflet");
          map.getContainer().querySelectorAll(".leaflet-control-layers-toggle").forEach(function (toggle) {
            toggle.title = words.layers;
            toggle.setAttribute("aria-label", words.layers);
          });
          var buttons = zoom.getContainer();
          L.Popup.mergeOptions({autoPanPaddingTopLeft: L.point(8, buttons.offsetTop + buttons.offsetHeight + 8)});
          map.on("popupopen", function (event) {
            var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
            if (close) close.setAttribute("aria-label", words.close);
          });
        })({{ this._parent.get_name() }}, {{ this.words|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, words: MapWords):
        super().__init__()
        self._name = "Controls"
        self.words = dataclasses.asdict(words)


def colour(share: float | None, classes=CLASSES) -> str:
    if share is None:
        return NO_DATA
    for low, high, fill in classes:
        if low <= share < high:
            return fill
    return classes[-1][2] if share >= classes[-1][0] else classes[0][2]


def _new_map(
    points: Sequence[tuple[float, float]], tiles_url: str | None, attribution: str, words: MapWords = MapWords()
) -> folium.Map:
    # Without a tile layer Leaflet knows no maximum zoom, and marker clusters need one. The zoom buttons
    # and the scale come with the other controls, in the user's words (render_parts).
    m = _Map(location=[16.0, 106.0], zoom_start=6, tiles=None, zoom_control=False, maxZoom=19)
    m.words = words
    if tiles_url:
        folium.TileLayer(tiles=tiles_url, attr=attribution, name="tiles", control=False).add_to(m)
    if points:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        pad = 0.002
        m.fit_bounds([[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]])
    return m


# Inline code folium writes in the head (L_NO_TOUCH ...): moved into the map's script, the one inline
# script of a map page, which the page marks with its Content-Security-Policy nonce.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def render_parts(m: folium.Map) -> MapParts:
    _Controls(m.words if isinstance(m, _Map) else MapWords()).add_to(m)
    root = m.get_root()
    assert isinstance(root, folium.Figure)  # folium puts every map in a Figure of its own
    root.render()
    header = _PAGE_RULES.sub("", root.header.render())
    inline = _INLINE_SCRIPT.findall(header)
    return MapParts(
        header=_INLINE_SCRIPT.sub("", header),
        body=root.html.render(),
        script="\n".join([*inline, root.script.render()]),
    )


@dataclass
class UnitShape:
    """What the coverage map needs of a unit; the text is already in the user's language."""

    id: int
    name: str
    lat: float | None
    lon: float | None
    boundary: str | None
    households: int
    share: float | None
    detail: str  # "78 / 752 households visited (10.4%)" or "no data"
    link_label: str


def _script_json(value) -> str:
    """JSON to write inside a <script>: no "</" that could close it (the texts are escaped HTML already)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


class _UnitLayer(MacroElement):
    """Every unit of a coverage map from one data array, drawn by one callback (as the household layer is):
    the shapes of units with a boundary in one GeoJSON layer, circles at the centroid of the others. A
    547-commune province writes each unit's numbers once, not a page of folium code per unit."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, shapes, circles, openLabel) {
          function texts(layer, name, detail, link) {
            var head = "<b>" + name + "</b><br>" + detail;
            layer.bindTooltip(head, {sticky: true});
            layer.bindPopup(head + '<br><a href="' + link + '">' + openLabel + "</a>", {maxWidth: 260});
          }
          var geo_json = L.geoJSON(shapes, {
            style: function (feature) {
              return {fillColor: feature.properties.fill, color: "#444", weight: 1, fillOpacity: 0.7};
            },
            onEachFeature: function (feature, layer) {
              var p = feature.properties;
              texts(layer, p.name, p.detail, p.link);
              layer.on("mouseover", function () { layer.setStyle({weight: 3}); });
              layer.on("mouseout", function () { geo_json.resetStyle(layer); });
            }
          }).addTo(map);
          circles.forEach(function (row) {
            var circle = L.circleMarker([row[0], row[1]], {
              radius: row[2], color: "#444", weight: 1, fill: true, fillColor: row[3], fillOpacity: 0.8
            });
            texts(circle, row[4], row[5], row[6]);
            circle.addTo(map);
          });
        })({{ this._parent.get_name() }}, {{ this.shapes }}, {{ this.circles }}, {{ this.open_label }});
        {% endmacro %}
        """
    )

    def __init__(self, shapes: dict, circles: list[list], open_label: str):
        super().__init__()
        self._name = "UnitLayer"
        self.shapes, self.circles = _script_json(shapes), _script_json(circles)
        self.open_label = _script_json(open_label)


def coverage_map(
    units: Sequence[UnitShape],
    *,
    tiles_url: str | None,
    attribution: str,
    drill_url: Callable[[int], str],
    classes=CLASSES,
    words: MapWords = MapWords(),
) -> MapParts:
    """Child units coloured by a share: a choropleth where boundaries exist, circles sized by households
    at the centroid where they do not. Each shape has a tooltip with the counts and a popup that
    drills down. All of them are one data array drawn by one callback (``_UnitLayer``)."""
    located = [(u.lat, u.lon) for u in units if u.lat is not None and u.lon is not None]
    m = _new_map(located, tiles_url, attribution, words)
    largest = max((u.households for u in units), default=0) or 1
    features: list[dict] = []
    circles: list[list] = []
    for unit in units:
        fill = colour(unit.share, classes)
        name, detail, link = str(escape(unit.name)), str(escape(unit.detail)), str(escape(drill_url(unit.id)))
        if unit.boundary:
            shape = json.loads(unit.boundary)
            geometry = shape.get("geometry") if shape.get("type") == "Feature" else shape
            properties = {"fill": fill, "name": name, "detail": detail, "link": link}
            features.append({"type": "Feature", "properties": properties, "geometry": geometry})
        elif unit.lat is not None and unit.lon is not None:
            radius = round(6 + 18 * math.sqrt(unit.households / largest), 1)
            circles.append([round(unit.lat, 5), round(unit.lon, 5), radius, fill, name, detail, link])
    open_label = str(escape(units[0].link_label)) if units else ""
    _UnitLayer({"type": "FeatureCollection", "features": features}, circles, open_label).add_to(m)
    return render_parts(m)


@dataclass
class HouseholdDot:
    lat: float
    lon: float
    status: str
    label: str  # name · address · status, in the user's language: no phone number, ever
    link: str


# One marker per household, drawn in the browser from a compact array: thousands of households in
# a fraction of the size (and time) of one folium.Marker each. The label is escaped in Python.
_DOT_CALLBACK = """
function callback(row) {
  var style = {radius: 7, color: "#333", weight: 1, fillColor: row[2], fillOpacity: 0.9};
  var marker = L.circleMarker([row[0], row[1]], style);
  marker.bindPopup(row[3] + '<br><a href="' + row[4] + '">' + %s + '</a>');
  return marker;
}
"""


def household_layer(m: folium.Map, dots: Sequence[HouseholdDot], *, name: str, open_label: str) -> None:
    data = [[d.lat, d.lon, STATUS_COLOURS[d.status], str(escape(d.label)), str(escape(d.link))] for d in dots]
    FastMarkerCluster(
        data, callback=_DOT_CALLBACK % json.dumps(str(escape(open_label))), name=name, disableClusteringAtZoom=17
    ).add_to(m)


def obstacle_layers(m: folium.Map, points: dict[str, list[tuple[float, float]]], names: dict[str, str]) -> None:
    for code, pts in sorted(points.items(), key=lambda item: -len(item[1])):
        group = folium.FeatureGroup(name=f"{names.get(code, code)} ({len(pts)})", show=False, overlay=True)
        HeatMap([[lat, lon] for lat, lon in pts], radius=18, blur=14, min_opacity=0.3).add_to(group)
        group.add_to(m)


def field_map(
    dots: Sequence[HouseholdDot],
    obstacles: dict[str, list[tuple[float, float]]],
    *,
    tiles_url: str | None,
    attribution: str,
    households_name: str,
    open_label: str,
    obstacle_names: dict[str, str],
    words: MapWords = MapWords(),
) -> MapParts:
    """Households (clustered, coloured by visit status) and heat maps of obstacles, for leaders and members."""
    m = _new_map([(d.lat, d.lon) for d in dots], tiles_url, attribution, words)
    household_layer(m, dots, name=households_name, open_label=open_label)
    obstacle_layers(m, obstacles, obstacle_names)
    folium.LayerControl(collapsed=True).add_to(m)
    return render_parts(m)


def naive_household_map(dots: Sequence[HouseholdDot], *, tiles_url: str | None, attribution: str) -> MapParts:
    """One folium.Marker per household: the naive way, kept only for the benchmark's comparison."""
    m = _new_map([(d.lat, d.lon) for d in dots], tiles_url, attribution)
    for d in dots:
        folium.Marker([d.lat, d.lon], popup=folium.Popup(str(escape(d.label)))).add_to(m)
    return render_parts(m)


@dataclass
class WalkPoint:
    lat: float
    lon: float
    label: str


STOP_SIZE = 26  # px, the numbered circle of a walk stop (.walk-stop in app.css)


class _SpreadStops(MacroElement):
    """Numbered stops of houses close together would cover each other's numbers: at every zoom, each stop
    that would overlap one placed before it moves to the nearest free place around its house (rings of
    eight, sixteen... places), so every number can be read and tapped. The line still joins the houses."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, stops, size) {
          var places = [L.point(0, 0)];
          for (var ring = 1; ring <= 4; ring++) {
            for (var k = 0; k < 8 * ring; k++) {
              var angle = 2 * Math.PI * k / (8 * ring) - Math.PI / 2, far = (size + 2) * ring;
              places.push(L.point(Math.round(far * Math.cos(angle)), Math.round(far * Math.sin(angle))));
            }
          }
          function spread() {
            var taken = [];
            stops.forEach(function (stop) {
              var at = map.latLngToLayerPoint(stop.getLatLng());
              var free = places.filter(function (shift) {
                return !taken.some(function (other) { return other.distanceTo(at.add(shift)) < size + 2; });
              })[0] || places[0];
              taken.push(at.add(free));
              var half = size / 2, icon = stop.options.icon;
              if (icon.options.iconAnchor[0] !== half - free.x || icon.options.iconAnchor[1] !== half - free.y) {
                stop.setIcon(L.divIcon(L.extend({}, icon.options, {iconAnchor: [half - free.x, half - free.y]})));
              }
            });
          }
          map.on("zoomend", spread);
          spread();
        })(
          {{ this._parent.get_name() }},
          [{% for stop in this.stops %}{{ stop.get_name() }}{{ "," if not loop.last }}{% endfor %}],
          {{ this.size }}
        );
        {% endmacro %}
        """
    )

    def __init__(self, stops: list[folium.Marker], size: int):
        super().__init__()
        self._name = "SpreadStops"
        self.stops, self.size = stops, size


def walk_map(
    stops: Sequence[WalkPoint], *, tiles_url: str | None, attribution: str, words: MapWords = MapWords()
) -> MapParts:
    """A member's walk list in order: numbered stops joined by a line, never covering each other."""
    m = _new_map([(s.lat, s.lon) for s in stops], tiles_url, attribution, words)
    if len(stops) > 1:
        folium.PolyLine([[s.lat, s.lon] for s in stops], color="#0b5d3b", weight=3, opacity=0.7).add_to(m)
    markers = []
    half = STOP_SIZE // 2
    for number, stop in enumerate(stops, start=1):
        icon = folium.DivIcon(
            html=f'<div class="walk-stop">{number}</div>', icon_size=(STOP_SIZE, STOP_SIZE), icon_anchor=(half, half)
        )
        tooltip = folium.Tooltip(f"{number}. {escape(stop.label)}")
        marker = folium.Marker([stop.lat, stop.lon], icon=icon, tooltip=tooltip)
        marker.add_to(m)
        markers.append(marker)
    if markers:
        _SpreadStops(markers, STOP_SIZE).add_to(m)
    return render_parts(m)
