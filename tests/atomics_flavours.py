"""The atomics implementations as the tests get them.

The C one is expected wherever the package was built with a compiler (`make test` builds
it): when it is missing, a test that asks for it fails rather than skips, unless
OCRMP_ATOMICS=pure says this install is the pure-Python one.
"""

from __future__ import annotations

import os

import pytest

from ocrmp.atomics import AtomicOps, implementation


def atomics(name: str) -> AtomicOps:
    try:
        return implementation(name)
    except ImportError:
        if os.environ.get("OCRMP_ATOMICS") == "pure":
            pytest.skip("OCRMP_ATOMICS=pure: the C extension ocrmp._atomics is not tested")
        pytest.fail("the C extension ocrmp._atomics is not built: run `make .venv/.installed` "
                    "(it needs gcc), or set OCRMP_ATOMICS=pure to test without it")
