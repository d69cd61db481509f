"""archit: task heads on any language-model backbone, any checkpoint loaded, modified models declared."""

from typing import Any

__version__ = "0.1.0"

__all__ = ["ArchitFactory", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `archit --help` and `import archit` do not pay for importing transformers.
    if name == "ArchitFactory":
        from archit.modeling.factory import ArchitFactory

        return ArchitFactory
    raise AttributeError(f"module 'archit' has no attribute {name!r}")
