"""Build step of the native SSA kernel; everything else about the package is in pyproject.toml.

`host/ssa/_native/ssa_native.c` is compiled with the system C compiler into a plain shared library
(`ssa/_native/_ssa_native<ext suffix>`, loaded with ctypes, no Python C API). A failed build never
fails the install: without a compiler the package installs and the `fast` backend falls back to the
numpy emulator with a one-line notice.
"""
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NATIVE = Extension("ssa._native._ssa_native", sources=["host/ssa/_native/ssa_native.c"])
GCC_LIKE_FLAGS = ["-O3", "-std=c99", "-fvisibility=hidden"]


class OptionalBuildExt(build_ext):
    """build_ext that warns instead of failing, and links a library without a PyInit_ symbol."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all (distutils raises several unrelated types)
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        ext.extra_compile_args = ["/O2"] if self.compiler.compiler_type == "msvc" else GCC_LIKE_FLAGS
        try:
            super().build_extension(ext)
        except Exception as exc:  # CompileError, LinkError, a compiler that rejects the flags
            self._skip(exc)

    def get_export_symbols(self, ext: Extension) -> list[str]:
        return []  # ctypes library, not an extension module

    def _skip(self, exc: Exception) -> None:
        self.warn(f"the native SSA kernel was not built ({type(exc).__name__}: {exc}); "
                  "the `fast` backend will run the numpy emulator instead. Install a C compiler and reinstall to build it.")


setup(ext_modules=[NATIVE], cmdclass={"build_ext": OptionalBuildExt})
