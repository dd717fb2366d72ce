"""How a drawn page becomes a scan: the conditions a test asks for, or a seed draws.

A page is drawn upright in grey; `finish` then prints it on its paper in its ink, adds
the stamps and handwriting layers, ages it, turns it, skews it and passes it through the
scanner or the fax, in the order these happen to a real sheet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ocrmp.corpus import colour, degrade

Rng = np.random.Generator
DPI_RANGE = (72, 600)


@dataclass(frozen=True)
class Scan:
    """The conditions of one scan. The defaults are a clean, upright, grey 300-dpi page."""

    dpi: int = 300
    orientation_deg: int = 0
    skew_deg: float | None = None  # None: none, or drawn by `degrade`
    colour: bool = False
    paper: str = "white"
    ink: str = "black"
    stamps: int = 0
    handwriting: int = 0
    fax: bool = False
    degrade: bool = False

    def __post_init__(self) -> None:
        if not DPI_RANGE[0] <= self.dpi <= DPI_RANGE[1]:
            raise ValueError(f"dpi must be within {DPI_RANGE[0]}-{DPI_RANGE[1]}, not {self.dpi}")
        if self.orientation_deg not in degrade.ORIENTATIONS:
            raise ValueError("orientation_deg must be 0, 90, 180 or 270, "
                             f"not {self.orientation_deg}")
        if self.skew_deg is not None and abs(self.skew_deg) > 45:
            raise ValueError(f"skew_deg must be within ±45 degrees, not {self.skew_deg}")
        colour.check(self.paper, self.ink)
        if self.fax and self.colour:
            raise ValueError("a fax is black and white: fax=True excludes colour=True")
        if not (0 <= self.stamps <= 8 and 0 <= self.handwriting <= 8):
            raise ValueError("stamps and handwriting count marks: 0 to 8 each")

    @property
    def plain(self) -> bool:
        """Black on white in grey: the page is its drawing, nothing to compose."""
        return not self.colour and self.paper == "white" and self.ink == "black"

    def options(self) -> dict[str, Any]:
        return asdict(self)


def finish(
    drawing: np.ndarray,
    scan: Scan,
    layers: dict[str, np.ndarray],
    seed: list[int],
) -> tuple[np.ndarray, float]:
    """The scan of an upright grey `drawing` (and its ink `layers`); returns it and its skew.

    `seed` is the page's stream: age and scanner draw from `seed`, paper from `seed + [1]`,
    the fax from `seed + [2]`, so adding one condition never changes the others' draws.
    """
    if scan.plain and not layers:
        img = drawing
    else:
        paper = colour.paper_image(drawing.shape, scan.paper, np.random.default_rng([*seed, 1]))
        inks = [(drawing, colour.INKS[scan.ink])]
        inks += [(layer, colour.INKS[name]) for name, layer in sorted(layers.items())]
        rgb = colour.compose(paper, inks)
        img = rgb if scan.colour else colour.to_grey(rgb)
    rng = np.random.default_rng(seed)
    if scan.degrade:
        img = degrade.age_paper(img, rng, scan.dpi)
    img = degrade.turn(img, scan.orientation_deg)
    skew = degrade.skew_angle(rng) if scan.degrade else 0.0
    if scan.skew_deg is not None:
        skew = float(scan.skew_deg)
    if skew:
        img = degrade.rotate(img, skew, fill=degrade.paper_fill(img))
    if scan.degrade:
        img = degrade.scanner(img, rng, scan.dpi)
    if scan.fax:
        img = degrade.fax(img, np.random.default_rng([*seed, 2]), scan.dpi)
    return img, skew


def _choice(rng: Rng, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def random_scan(rng: Rng, dpis: list[int]) -> dict[str, Any]:
    """Conditions drawn the way a registry's scans mix them: mostly plain, some of all."""
    fax = rng.random() < 0.12
    colour_scan = not fax and rng.random() < 0.4
    return {
        "dpi": _choice(rng, [d for d in dpis if d <= 200] or dpis) if fax else _choice(rng, dpis),
        "orientation_deg": 0 if rng.random() < 0.7 else _choice(rng, [90, 180, 270]),
        "skew_deg": round(float(rng.uniform(-3, 3)), 2) if rng.random() < 0.7 else None,
        "colour": colour_scan,
        "paper": _choice(rng, ["white", "white", "white", "yellowed", "yellowed", "grey"]),
        "ink": _choice(rng, ["black"] * 4 + ["faded", "violet", "blue"]),
        "stamps": 0 if rng.random() < 0.6 else int(rng.integers(1, 3)),
        "handwriting": 0 if rng.random() < 0.6 else int(rng.integers(1, 4)),
        "fax": fax,
        "degrade": bool(rng.random() < 0.4),
    }
