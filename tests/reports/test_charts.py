"""SVG charts: well-formed, escaped, offline, and honest about missing data."""

import re
import xml.etree.ElementTree as ET

import pytest

from outreach.reports.charts import (
    Bar,
    Point,
    Series,
    bar_ranking,
    line_chart,
    nice_ticks,
    percent_ticks,
    scatter_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"
MONTHS = [f"{month:02d}/{year}" for year in (2023, 2024, 2025) for month in range(1, 13)]


def parse(markup) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def make_series(label="Tân Hà", values=(0.1, 0.2, 0.3), titles=None):
    return Series(label=label, values=list(values), point_titles=titles or [f"{label} {i}" for i in range(len(values))])


def make_line(series, x_labels=("01/2025", "02/2025", "03/2025"), **kwargs):
    options = {"title": "Tỷ lệ nộp trực tuyến", "desc": "Theo tháng", "y_label": "Tỷ lệ", **kwargs}
    return line_chart(series, x_labels=list(x_labels), **options)


def test_line_chart_is_an_accessible_svg_with_a_title_on_every_point():
    root = parse(make_line([make_series(titles=["Tân Hà: 71.725 / 170.531 = 42,06%", "b", "c"])]))

    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 ")
    assert root.find(f"{SVG}title").text == "Tỷ lệ nộp trực tuyến"
    assert root.find(f"{SVG}desc").text == "Theo tháng"
    point_titles = [el.find(f"{SVG}title").text for el in root.iter() if el.get("stroke") == "#ffffff"]
    assert "Tân Hà: 71.725 / 170.531 = 42,06%" in point_titles


def test_every_text_is_escaped():
    markup = str(
        make_line(
            [make_series(label=SCRIPT, titles=[SCRIPT] * 3)],
            x_labels=[SCRIPT] * 3,
            title=SCRIPT,
            desc=SCRIPT,
            y_label=SCRIPT,
            marker_index=1,
            marker_label=SCRIPT,
        )
    )
    markup += str(
        bar_ranking(
            [Bar(SCRIPT, 0.5, SCRIPT), Bar(SCRIPT, None, SCRIPT)],
            title=SCRIPT,
            desc=SCRIPT,
            value_format=lambda v: SCRIPT,
            no_data_label=SCRIPT,
        )
    )
    markup += str(
        scatter_chart(
            [Point(0.1, 0.2, SCRIPT, SCRIPT)],
            title=SCRIPT,
            desc=SCRIPT,
            x_label=SCRIPT,
            y_label=SCRIPT,
            x_format=lambda v: SCRIPT,
            y_format=lambda v: SCRIPT,
        )
    )

    assert "<script" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


def test_a_missing_value_breaks_the_line_instead_of_dropping_to_zero():
    root = parse(make_line([make_series(values=[0.1, 0.2, None, 0.3, 0.4])], x_labels=MONTHS[:5]))

    lines = [path for path in root.iter(f"{SVG}path") if path.get("class") == "series-line"]
    assert len(lines) == 2
    assert all(path.get("d").count("M") == 1 and path.get("d").count("L") == 1 for path in lines)
    assert len(root.find(f".//{SVG}g[@class='series']").findall(f"{SVG}circle")) == 4  # no marker for the gap


def test_36_month_labels_are_thinned_to_fit():
    root = parse(make_line([make_series(values=[0.3] * 36)], x_labels=MONTHS))

    shown = [text for text in texts(root) if text in MONTHS]
    assert 3 <= len(shown) < 36
    assert shown[0] == "01/2023"


def test_eight_series_differ_in_colour_and_in_dash_or_marker():
    root = parse(make_line([make_series(label=f"Xã {i}") for i in range(8)]))

    groups = root.findall(f".//{SVG}g[@class='series']")
    styles = []
    for group in groups:
        path = group.find(f"{SVG}path")
        marker = next(el for el in group if el.tag != f"{SVG}title" and el.tag != f"{SVG}path")
        shape = (marker.tag, len((marker.get("points") or "").split()))  # a diamond has 4 corners, a triangle 3
        styles.append((path.get("stroke"), path.get("stroke-dasharray"), shape))
    assert len({colour for colour, *_ in styles}) == 8
    assert len({tuple(rest) for _, *rest in styles}) == 8
    assert len(root.findall(f".//{SVG}g[@class='legend']")) == 8


def test_outreach_marker_is_a_dashed_line_with_its_label():
    root = parse(make_line([make_series()], marker_index=1, marker_label="Bắt đầu ra quân"))

    marker = root.find(f".//{SVG}g[@class='marker']")
    assert marker.find(f"{SVG}line").get("stroke-dasharray")
    assert "Bắt đầu ra quân" in texts(marker)


def test_line_chart_refuses_series_of_the_wrong_length():
    with pytest.raises(ValueError, match="one value and one title"):
        make_line([make_series(values=[0.1, 0.2])])


def test_scatter_has_a_zero_line_for_negative_changes():
    points = [Point(0.1, -0.05, "Tân Hà", "Tân Hà: -5%"), Point(0.6, 0.12, "Phong Thổ", "Phong Thổ: +12%")]

    root = parse(
        scatter_chart(
            points,
            title="t",
            desc="d",
            x_label="Thăm",
            y_label="Thay đổi",
            x_format=lambda v: f"{v:.0%}",
            y_format=lambda v: f"{v:+.0%}",
        )
    )

    assert "+0%" in texts(root)
    assert [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle")] == ["Tân Hà: -5%", "Phong Thổ: +12%"]
    assert "Tân Hà" in texts(root)


def test_bar_without_data_is_text_not_a_bar():
    bars = [Bar("Tân Hà", 0.42, "Tân Hà: 42 / 100"), Bar("Mường So", None, "Mường So: chưa có hồ sơ")]

    root = parse(
        bar_ranking(bars, title="t", desc="d", value_format=lambda v: f"{v:.0%}", no_data_label="không có số liệu")
    )

    rows = root.findall(f".//{SVG}g[@class='bar']")
    assert rows[0].find(f"{SVG}rect").find(f"{SVG}title").text == "Tân Hà: 42 / 100"
    assert "42%" in texts(rows[0])
    assert rows[1].find(f"{SVG}rect") is None
    assert "không có số liệu" in texts(rows[1])
    assert rows[1].find(f"{SVG}title").text == "Mường So: chưa có hồ sơ"


def test_long_names_are_cut_but_kept_whole_in_the_title():
    name = "Thị trấn Phong Thổ thuộc huyện Phong Thổ tỉnh Lai Châu"

    root = parse(bar_ranking([Bar(name, 0.3, "t")], title="t", desc="d", value_format=str, no_data_label="-"))

    label = root.find(f".//{SVG}g[@class='bar']/{SVG}text")
    assert label.find(f"{SVG}title").text == name
    assert label.find(f"{SVG}title").tail.endswith("…")


def test_no_url_but_the_svg_namespace():
    markup = str(make_line([make_series()], marker_index=0, marker_label="m"))
    markup += str(bar_ranking([Bar("a", 0.1, "a")], title="t", desc="d", value_format=str, no_data_label="-"))
    markup += str(
        scatter_chart(
            [Point(1, 2, "a", "a")], title="t", desc="d", x_label="x", y_label="y", x_format=str, y_format=str
        )
    )

    assert set(re.findall(r"https?://[^\s\"'<>]+", markup)) == {"http://www.w3.org/2000/svg"}
    assert "<script" not in markup and "<style" not in markup and "@import" not in markup


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0, 0.43, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
        (-0.12, 0.3, [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3]),
        (0, 1, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0, 0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (3, 97, [0, 20, 40, 60, 80, 100]),
    ],
)
def test_nice_ticks(lo, hi, expected):
    assert nice_ticks(lo, hi) == expected


def test_nice_ticks_across_zero_include_zero():
    for lo, hi in [(-0.07, 0.02), (-3.3, 17.1), (-0.013, 0.0021), (-250, 40)]:
        ticks = nice_ticks(lo, hi)
        assert 0 in ticks
        assert ticks[0] <= lo and ticks[-1] >= hi


def test_default_percent_ticks_never_repeat_a_label():
    root = parse(make_line([make_series(values=[0.001, 0.008, 0.012])]))

    tick_labels = [text for text in texts(root) if text.endswith("%")]
    assert tick_labels[:3] == ["0.0%", "0.2%", "0.4%"]
    assert len(set(tick_labels)) == len(tick_labels)


def test_percent_ticks():
    assert [percent_ticks([0, 0.2, 0.4])(v) for v in (0, 0.4)] == ["0%", "40%"]
    assert percent_ticks([0, 0.005, 0.01])(0.005) == "0.5%"
