"""One folium map that uses every kind of layer our maps use (the browser fixtures are in tests/conftest.py)."""

import branca.colormap
import folium
import folium.plugins
import pytest

POLYGONS = 2
# A tile server as MAP_TILES_URL configures one in production (the test configuration has none).
TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'


def _square(west: float, south: float, size: float) -> list:
    return [[[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]]


@pytest.fixture
def every_class_map():
    """folium.Map (all of its libraries: Leaflet, jQuery, Bootstrap, Font Awesome, glyphicons,
    awesome-markers) with a GeoJson layer (tooltip, popup), circle markers, markers with icons, a
    MarkerCluster, a FastMarkerCluster, a HeatMap, colour legends and a LayerControl."""
    m = folium.Map(
        location=[21.835, 105.195],
        zoom_start=13,
        tiles=TILES,
        attr=ATTRIBUTION,
    )
    units = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name, "visited": visited},
                "geometry": {"type": "Polygon", "coordinates": _square(105.18 + i * 0.015, 21.825, 0.012)},
            }
            for i, (name, visited) in enumerate([("Thôn Phú Bình", "12 / 40"), ("Thôn Tân Hà", "0 / 25")])
        ],
    }
    assert len(units["features"]) == POLYGONS
    legend = branca.colormap.StepColormap(
        ["#fee5d9", "#fb6a4a", "#a50f15"], index=[0, 40, 80, 100], vmin=0, vmax=100, caption="% visited"
    )
    folium.GeoJson(
        units,
        name="units",
        style_function=lambda feature: {"fillColor": legend(30), "color": "#444", "weight": 1},
        tooltip=folium.GeoJsonTooltip(fields=["name", "visited"]),
        popup=folium.GeoJsonPopup(fields=["name"]),
    ).add_to(m)
    circles = folium.FeatureGroup(name="circles").add_to(m)
    folium.CircleMarker(
        [21.84, 105.19], radius=9, fill=True, tooltip=folium.Tooltip("Thôn 3"), popup=folium.Popup("Thôn 3")
    ).add_to(circles)
    # Markers: Leaflet's own icon, a Font Awesome one (rotated) and a glyphicon (folium.Icon's default).
    folium.Marker([21.829, 105.185], popup="Leaflet's own marker").add_to(circles)
    folium.Marker([21.842, 105.205], icon=folium.Icon(icon="home", prefix="fa", angle=30)).add_to(circles)
    folium.Marker([21.826, 105.208], icon=folium.Icon(icon="flag")).add_to(circles)
    cluster = folium.plugins.MarkerCluster(name="households").add_to(m)
    for i in range(5):
        folium.Marker([21.831 + i / 10000, 105.191], popup=folium.Popup(f"Hộ {i}")).add_to(cluster)
    folium.plugins.FastMarkerCluster([[21.83 + i / 1000, 105.2] for i in range(20)], name="fast").add_to(m)
    folium.plugins.HeatMap([[21.835, 105.195, 1.0], [21.836, 105.196, 0.5]], name="obstacles").add_to(m)
    legend.add_to(m)
    branca.colormap.LinearColormap(["white", "green"], vmin=0, vmax=100, caption="% online").add_to(m)
    folium.LayerControl().add_to(m)
    return m
