"""Import single modules of an unpacked wheel without running its package ``__init__``.

torchcrepe's and pesto's ``__init__`` import torchaudio, which has no build for the
torch we use. Their model modules do not need it, so the parity checks load those
modules from the unpacked wheel directly (the package's own code, not a copy).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def module_constants(path: Path) -> dict[str, object]:
    """Return the literal module-level assignments (``NAME = 360``) of a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return found


def import_submodules(root: Path, package: str, modules: list[str],
                      package_attrs: dict[str, object] | None = None) -> dict[str, ModuleType]:
    """Import ``package.<module>`` for each module from ``root`` skipping ``__init__``.

    Parameters
    ----------
    root : Path
        Folder that contains the package folder (an unpacked wheel).
    package : str
        Top-level package name.
    modules : list of str
        Submodules to import, e.g. ``["model"]`` or ``["loader"]``.
    package_attrs : dict, optional
        Attributes the package's ``__init__`` would have exported and the submodules
        read at run time (torchcrepe's model reads ``torchcrepe.PITCH_BINS``).

    Returns
    -------
    dict
        Imported submodules by name. ``sys.modules`` is restored afterwards, so an
        installed copy of the package (if any) is not shadowed.
    """
    saved = {k: v for k, v in sys.modules.items() if k == package or k.startswith(package + ".")}
    for key in saved:
        del sys.modules[key]
    try:
        spec = importlib.util.spec_from_file_location(
            package, root / package / "__init__.py",
            submodule_search_locations=[str(root / package)])
        if spec is None:
            raise ImportError(f"cannot locate package {package} under {root}")
        pkg = importlib.util.module_from_spec(spec)
        for name, value in (package_attrs or {}).items():
            setattr(pkg, name, value)
        sys.modules[package] = pkg
        return {name: importlib.import_module(f"{package}.{name}") for name in modules}
    finally:
        for key in [k for k in sys.modules if k == package or k.startswith(package + ".")]:
            del sys.modules[key]
        sys.modules.update(saved)
