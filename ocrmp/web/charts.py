"""Pages per minute as an SVG bar chart drawn on the server: no script, no library."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 480, 120
_AXIS = 16  # room below the bars for the time labels


@dataclass(frozen=True)
class Series:
    """Pages per minute in each bucket of a span ending now, oldest first."""

    rates: tuple[float, ...]
    bucket_s: int

    @property
    def mean(self) -> float:
        return sum(self.rates) / len(self.rates) if self.rates else 0.0


def series(pages: Mapping[int, int], *, now: float, span_s: int, bucket_s: int) -> Series:
    """Every bucket of the last `span_s` seconds, empty ones as 0, from pages per bucket
    start (unix seconds, multiples of `bucket_s`)."""
    last = int(now // bucket_s) * bucket_s
    starts = range(last - span_s + bucket_s, last + 1, bucket_s)
    return Series(tuple(pages.get(start, 0) * 60.0 / bucket_s for start in starts), bucket_s)


def bar_chart(data: Series, title: str, span_label: str) -> str:
    """The series as an SVG of `WIDTH` × `HEIGHT`, tallest bar to the top, with its peak."""
    count = max(len(data.rates), 1)
    peak = max(data.rates, default=0.0)
    plot = HEIGHT - _AXIS
    step = WIDTH / count
    bars = []
    for i, rate in enumerate(data.rates):
        if rate <= 0:
            continue
        height = max(1.0, plot * rate / peak)
        bars.append(f'<rect class="bar" x="{i * step:.1f}" y="{plot - height:.1f}" '
                    f'width="{max(step - 1, 1):.1f}" height="{height:.1f}">'
                    f'<title>{rate:.1f} pages/min</title></rect>')
    label = escape(f"{title}: mean {data.mean:.1f} pages/min, peak {peak:.1f}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'aria-label="{label}"><title>{label}</title>'
            f'<line class="axis" x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}"/>'
            + "".join(bars) +
            f'<text x="0" y="{HEIGHT - 3}">{escape(span_label)} ago</text>'
            f'<text x="{WIDTH}" y="{HEIGHT - 3}" text-anchor="end">now</text></svg>')
