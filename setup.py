"""Build the optional C atomics extension; a missing compiler leaves a pure-Python install."""

import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Turn a failed C build into a warning: ocrmp then uses its pure-Python atomics."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means: fall back
            warnings.warn(f"ocrmp: C atomics not built ({exc}); using the pure-Python fallback",
                          stacklevel=1)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            warnings.warn(f"ocrmp: C extension {ext.name} not built ({exc}); "
                          "using the pure-Python fallback", stacklevel=1)


setup(
    ext_modules=[
        Extension("ocrmp._atomics", sources=["native/atomics.c"], extra_compile_args=["-O2"]),
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
