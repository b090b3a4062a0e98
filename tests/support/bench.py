"""benchmarks/generate.py as a module, loaded from its file (tests never patch sys.path)."""

from __future__ import annotations

import functools
import importlib.util
from types import ModuleType

from support.oracles import ROOT


@functools.cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
