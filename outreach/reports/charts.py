"""SVG charts for the impact reports, drawn on the server: rows in, markup out.

They work offline and on paper: no JavaScript, no fonts or stylesheets to fetch, black text, lines told
apart by dash and marker as well as colour. The caller passes every text already translated and
formatted; this module does the geometry and escapes every text (names come from people). Each point
and bar carries a <title> with the counts behind its figure, which a mouse shows on hover.
"""

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from markupsafe import Markup, escape

# Drawing units. At 400 wide, a 15-unit font is about 12 px on a 360 px phone and 5 mm on A4.
WIDTH = 400
FONT = 15
SMALL_FONT = 14
# A generous average width of one character of a sans-serif face (DejaVu Sans, the widest common
# fallback, Vietnamese marks included): enough to decide what fits, never to place text precisely.
CHAR_WIDTH = 0.62

INK = "#1a1a1a"
MUTED = "#555555"
GRID = "#d9d9d9"
BAR = "#2b5c8a"
POINT = "#0b4f9c"
# Dark enough to read on white and on a greyscale print; each series also gets its own dash and marker.
SERIES_COLOURS = ("#0b4f9c", "#c43c00", "#00745a", "#7b3294", "#1a1a1a", "#8c5a00", "#c2185b", "#4d6b7a")
DASHES = ("", "7 4", "2 3", "9 3 2 3")
MARKERS = ("circle", "square", "diamond", "triangle")

# Above this many points a scatter's names would cover each other; the <title> of each point still has it.
LABELLED_POINTS_MAX = 12


@dataclass(frozen=True)
class Series:
    """One line: a value (a share, 0..1, or None for no data) and a hover text for each x label."""

    label: str
    values: Sequence[float | None]
    point_titles: Sequence[str]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # written beside the point when there are few points
    title: str  # the hover text: the figures behind the point


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None is "no data", drawn as text, never as a bar of zero
    title: str


def percent_ticks(ticks: Sequence[float]) -> Callable[[float], str]:
    """Whole percents ("40%"), or as many decimals as the tick step needs so no two ticks read the same."""
    step = min((b - a for a, b in zip(ticks, ticks[1:], strict=False)), default=1.0)
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))
    return lambda value: f"{value:.{decimals}%}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round values (steps of 1, 2 or 5 times a power of ten) from at or below ``lo``
    to at or above ``hi``. A range across zero always has 0 among its ticks."""
    lo, hi = min(lo, hi), max(lo, hi)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = (0.0, 1.0) if lo == 0 else (lo - pad, hi + pad)
    raw_step = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    # The round step nearest the raw one. No 2.5: a tick of 2.5% would print as "2%" at whole percents.
    step = magnitude * min((1, 2, 5, 10), key=lambda nice: abs(math.log(nice * magnitude / raw_step)))
    # Ticks are whole multiples of the step, so 0 is one whenever the range crosses it; rounding drops
    # float dust such as 0.30000000000000004.
    digits = max(0, 2 - math.floor(math.log10(step)))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, digits) + 0.0 for k in range(first, last + 1)]


def _num(value: float) -> str:
    return f"{value:.1f}"


def _present(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def _text_width(text: str, size: int = FONT) -> float:
    return len(text) * size * CHAR_WIDTH


def _fit(text: str, width: float, size: int = FONT) -> str:
    """The text, cut with an ellipsis if it would be wider than ``width``."""
    chars = max(1, int(width / (size * CHAR_WIDTH)))
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = FONT, extra: str = "") -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}"{extra}>{escape(content)}</text>'
    )


def _label(x: float, y: float, content: str, width: float, *, anchor: str = "start", size: int = FONT) -> str:
    # A label cut to fit keeps its full text as a tooltip.
    shown = _fit(content, width, size)
    title = f"<title>{escape(content)}</title>" if shown != content else ""
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}">{title}{escape(shown)}</text>'


# White outline behind text drawn over lines, so it stays readable where they cross.
HALO = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'


def _svg(width: float, height: float, title: str, desc: str, body: list[str]) -> Markup:
    # Ids for aria-labelledby must be unique on the page; two charts with the same title and
    # description would point at identical text anyway.
    key = hashlib.sha1(f"{title}\x00{desc}".encode(), usedforsecurity=False).hexdigest()[:10]
    # Safe: every text that came from the caller went through escape() on its way into body.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" width="100%" '
        f'role="img" aria-labelledby="chart-{key}-title chart-{key}-desc" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" fill="{INK}">'
        f'<title id="chart-{key}-title">{escape(title)}</title>'
        f'<desc id="chart-{key}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _marker(shape: str, x: float, y: float, colour: str, title: str) -> str:
    hover = f"<title>{escape(title)}</title>"
    common = f'fill="{colour}" stroke="#ffffff" stroke-width="1"'
    if shape == "circle":
        return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" {common}>{hover}</circle>'
    if shape == "square":
        return f'<rect x="{_num(x - 3.5)}" y="{_num(y - 3.5)}" width="7" height="7" {common}>{hover}</rect>'
    if shape == "diamond":
        corners = [(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)]
    else:
        corners = [(x, y - 5), (x + 4.5, y + 3.5), (x - 4.5, y + 3.5)]
    points = " ".join(f"{_num(cx)},{_num(cy)}" for cx, cy in corners)
    return f'<polygon points="{points}" {common}>{hover}</polygon>'


def _series_style(index: int) -> tuple[str, str, str]:
    # Dash and marker shift against each other after the first four, so no two of eight series share both.
    colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
    dash = DASHES[index % len(DASHES)]
    marker = MARKERS[(index + index // len(DASHES)) % len(MARKERS)]
    return colour, dash, marker


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The unbroken stretches of values, each value with its index: a missing value ends a stretch."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if _present(value):
            runs[-1].append((i, value))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _y_axis(
    ticks: list[float], to_y: Callable[[float], float], left: float, right: float, fmt: Callable[[float], str]
) -> list[str]:
    parts = []
    for tick in ticks:
        y = to_y(tick)
        stroke = MUTED if tick == 0 else GRID
        parts.append(f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(right)}" y2="{_num(y)}" stroke="{stroke}"/>')
        parts.append(_text(left - 6, y + SMALL_FONT * 0.35, fmt(tick), anchor="end", size=SMALL_FONT))
    return parts


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    y_label: str,
    x_labels: Sequence[str],
    marker_index: int | None = None,
    marker_label: str = "",
    y_format: Callable[[float], str] | None = None,
    target: float | None = None,
    target_label: str = "",
) -> Markup:
    """Shares over time, one line per series, with a legend; a missing value leaves a gap in its line.

    The y axis starts at 0 (a cut axis would exaggerate a change); its ticks read as percents unless
    ``y_format`` says otherwise. X labels are thinned so they never overlap (36 months stay readable).
    A dashed vertical line with a triangle and ``marker_label`` marks ``marker_index``, for instance
    the month outreach began. ``target`` draws a horizontal dotted line at that value (the axis reaches
    it) with ``target_label`` above its right end, for instance the province's 80% goal."""
    n = len(x_labels)
    for line in series:
        if len(line.values) != n or len(line.point_titles) != n:
            raise ValueError(f"series {line.label!r} needs one value and one title for each of the {n} x labels")
    if marker_index is not None and not 0 <= marker_index < n:
        raise ValueError(f"marker_index {marker_index} is outside the {n} x labels")

    values = [v for line in series for v in line.values if _present(v)]
    if _present(target):
        values.append(target)
    ticks = nice_ticks(min(0.0, *values), max(values)) if values else nice_ticks(0.0, 1.0)
    y_format = y_format or percent_ticks(ticks)
    left = 12 + max(_text_width(y_format(t), SMALL_FONT) for t in ticks)
    label_width = max((_text_width(label, SMALL_FONT) for label in x_labels), default=0) + 10
    right = WIDTH - max(16.0, label_width / 2)
    top = 58 if marker_index is not None else 34
    bottom = top + 210
    plot_left = left + 8  # room so the first marker does not sit on the axis

    def to_x(i: int) -> float:
        return (plot_left + right) / 2 if n == 1 else plot_left + i * (right - plot_left) / (n - 1)

    def to_y(value: float) -> float:
        return bottom - (value - ticks[0]) / (ticks[-1] - ticks[0]) * (bottom - top)

    body = [_text(4, 18, y_label, size=SMALL_FONT, extra=f' fill="{MUTED}"')]
    body += _y_axis(ticks, to_y, left, right, y_format)

    slot = (right - plot_left) / (n - 1) if n > 1 else right - plot_left
    every = max(1, math.ceil(label_width / slot))
    for i, label in enumerate(x_labels):
        x = to_x(i)
        body.append(
            f'<line x1="{_num(x)}" y1="{_num(bottom)}" x2="{_num(x)}" y2="{_num(bottom + 4)}" stroke="{MUTED}"/>'
        )
        if i % every == 0:
            body.append(_text(x, bottom + 20, label, anchor="middle", size=SMALL_FONT))

    if marker_index is not None:
        x = to_x(marker_index)
        anchor = "end" if x > (left + right) / 2 else "start"
        body.append(
            f'<g class="marker"><line x1="{_num(x)}" y1="{_num(top - 10)}" x2="{_num(x)}" y2="{_num(bottom)}" '
            f'stroke="{INK}" stroke-width="1.5" stroke-dasharray="5 4"/>'
            f'<polygon points="{_num(x - 5)},{_num(top - 16)} {_num(x + 5)},{_num(top - 16)} '
            f'{_num(x)},{_num(top - 8)}"/>'
            + _label(x + (-8 if anchor == "end" else 8), top - 12, marker_label, WIDTH / 2, anchor=anchor)
            + "</g>"
        )

    if _present(target):
        y = to_y(target)
        body.append(
            f'<g class="target"><title>{escape(target_label)}</title>'
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(right)}" y2="{_num(y)}" stroke="{INK}" '
            f'stroke-width="1.5" stroke-dasharray="2 3"/>'
            + _label(right, y - 5, target_label, right - left, anchor="end", size=SMALL_FONT)
            + "</g>"
        )

    for index, line in enumerate(series):
        colour, dash, shape = _series_style(index)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts = [f'<g class="series"><title>{escape(line.label)}</title>']
        for run in _runs(line.values):
            if len(run) > 1:  # a lone value between gaps is shown by its marker alone
                d = " ".join(
                    f"{'M' if k == 0 else 'L'}{_num(to_x(i))},{_num(to_y(value))}" for k, (i, value) in enumerate(run)
                )
                parts.append(
                    f'<path class="series-line" d="{d}" fill="none" stroke="{colour}" stroke-width="2.2"'
                    f' stroke-linejoin="round"{dash_attr}/>'
                )
        for i, (value, point_title) in enumerate(zip(line.values, line.point_titles, strict=True)):
            if _present(value):
                parts.append(_marker(shape, to_x(i), to_y(value), colour, point_title))
        parts.append("</g>")
        body.append("".join(parts))

    # Legend below the axis, each entry a short stretch of its line with its marker: two columns when
    # every name fits in half the width, else one, so names are cut only when longer than the chart.
    legend_top = bottom + 44
    fits_half = all(_text_width(line.label) <= (WIDTH - 8) / 2 - 44 for line in series)
    columns = 2 if len(series) > 1 and fits_half else 1
    column_width = (WIDTH - 8) / columns
    for index, line in enumerate(series):
        colour, dash, shape = _series_style(index)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        x = 4 + (index % columns) * column_width
        y = legend_top + (index // columns) * 22
        body.append(
            f'<g class="legend"><line x1="{_num(x)}" y1="{_num(y)}" x2="{_num(x + 30)}" y2="{_num(y)}" '
            f'stroke="{colour}" stroke-width="2.2"{dash_attr}/>'
            + _marker(shape, x + 15, y, colour, line.label)
            + _label(x + 38, y + FONT * 0.35, line.label, column_width - 44)
            + "</g>"
        )
    height = legend_top + math.ceil(len(series) / columns) * 22
    return _svg(WIDTH, height, title, desc, body)


def scatter_chart(
    points: Sequence[Point],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    x_format: Callable[[float], str],
    y_format: Callable[[float], str],
) -> Markup:
    """One dot per unit, for instance outreach intensity against change in online rate.

    The y axis always includes 0, drawn darker, so a fall reads as a fall; so does the x axis when its
    range crosses 0. No trend line: the caller states the rank correlation in words."""
    shown = [p for p in points if _present(p.x) and _present(p.y)]
    xs, ys = [p.x for p in shown], [p.y for p in shown]
    x_ticks = nice_ticks(min(xs), max(xs)) if xs else nice_ticks(0.0, 1.0)
    y_ticks = nice_ticks(min(0.0, *ys), max(0.0, *ys)) if ys else nice_ticks(0.0, 1.0)
    left = 12 + max(_text_width(y_format(t), SMALL_FONT) for t in y_ticks)
    right = WIDTH - max(16.0, _text_width(x_format(x_ticks[-1]), SMALL_FONT) / 2 + 4)
    top, bottom = 34, 34 + 280

    def to_x(value: float) -> float:
        return left + (value - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * (right - left)

    def to_y(value: float) -> float:
        return bottom - (value - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * (bottom - top)

    body = [_text(4, 18, y_label, size=SMALL_FONT, extra=f' fill="{MUTED}"')]
    body += _y_axis(y_ticks, to_y, left, right, y_format)
    for tick in x_ticks:
        x = to_x(tick)
        stroke = MUTED if tick == 0 else GRID
        body.append(f'<line x1="{_num(x)}" y1="{_num(top)}" x2="{_num(x)}" y2="{_num(bottom)}" stroke="{stroke}"/>')
        body.append(_text(x, bottom + 20, x_format(tick), anchor="middle", size=SMALL_FONT))
    body.append(_label((left + right) / 2, bottom + 44, x_label, WIDTH - 8, anchor="middle", size=SMALL_FONT))

    labelled = len(shown) <= LABELLED_POINTS_MAX
    placed: list[tuple[float, float, float, float]] = []  # boxes of the names written so far
    for point in shown:
        x, y = to_x(point.x), to_y(point.y)
        parts = [
            f'<circle class="point" cx="{_num(x)}" cy="{_num(y)}" r="5" fill="{POINT}" '
            f'stroke="#ffffff" stroke-width="1">'
            f"<title>{escape(point.title)}</title></circle>"
        ]
        if labelled:
            on_right = x < (left + right) / 2
            name = _fit(point.label, WIDTH / 3, SMALL_FONT)
            width = _text_width(name, SMALL_FONT)
            x0 = x + 8 if on_right else x - 8 - width
            box = (x0, y - 6 - SMALL_FONT, x0 + width, y - 6)
            # A name that would cover another is left to the point's <title> (and the table below the chart).
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                placed.append(box)
                parts.append(
                    _text(
                        x + (8 if on_right else -8),
                        y - 6,
                        name,
                        anchor="start" if on_right else "end",
                        size=SMALL_FONT,
                        extra=HALO,
                    )
                )
        body.append("".join(parts))
    return _svg(WIDTH, bottom + 54, title, desc, body)


def bar_ranking(
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    value_format: Callable[[float], str],
    no_data_label: str,
) -> Markup:
    """Horizontal bars in the order given, a name to the left of each and its value at the bar's end.

    A long name is cut with an ellipsis and kept whole in its <title>. A missing value is written as
    ``no_data_label``, never drawn as a bar of zero. Negative values grow left from a zero line."""
    row_height, bar_height = 26, 16
    # As wide as the longest name needs, up to 60% of the drawing: a commune's name is the point.
    label_width = min(WIDTH * 0.6, max([_text_width(bar.label) for bar in bars] + [WIDTH * 0.3]) + 8)
    values = [bar.value for bar in bars if _present(bar.value)]
    zero_floor, top_value = min([0.0, *values]), max([0.0, *values])
    # Every value text, and "no data", starts right of the zero line or the bar's end: keep room for the widest.
    texts = [value_format(value) for value in values] + [no_data_label] * (len(values) < len(bars))
    plot_left = label_width + 10
    plot_right = WIDTH - 8 - max([_text_width(text, SMALL_FONT) for text in texts] + [0.0])
    span = (top_value - zero_floor) or 1.0

    def to_x(value: float) -> float:
        return plot_left + (value - zero_floor) / span * (plot_right - plot_left)

    zero = to_x(0.0)
    body = []
    for index, bar in enumerate(bars):
        y = 6 + index * row_height
        middle = y + bar_height / 2 + SMALL_FONT * 0.35
        parts = [
            f'<g class="bar"><title>{escape(bar.title)}</title>',
            _label(label_width, middle, bar.label, label_width - 4, anchor="end"),
        ]
        if _present(bar.value):
            end = to_x(bar.value)
            x, width = min(zero, end), abs(end - zero)
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(width, 0.5))}" height="{bar_height}" fill="{BAR}">'
                f"<title>{escape(bar.title)}</title></rect>"
            )
            parts.append(_text(max(zero, end) + 5, middle, value_format(bar.value), size=SMALL_FONT))
        else:
            parts.append(
                _text(zero + 5, middle, no_data_label, size=SMALL_FONT, extra=f' fill="{MUTED}" font-style="italic"')
            )
        parts.append("</g>")
        body.append("".join(parts))
    height = 12 + len(bars) * row_height
    body.append(f'<line x1="{_num(zero)}" y1="2" x2="{_num(zero)}" y2="{_num(height - 6)}" stroke="{MUTED}"/>')
    return _svg(WIDTH, height, title, desc, body)
