"""archit: task heads on any language-model backbone, any checkpoint loaded, modified models declared."""

from types import ModuleType
from typing import Any

from archit._post_import import when_imported

__version__ = "0.1.0"

__all__ = ["ArchitFactory", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `archit --help` and `import archit` do not pay for importing transformers.
    if name == "ArchitFactory":
        from archit.modeling.factory import ArchitFactory

        return ArchitFactory
    raise AttributeError(f"module 'archit' has no attribute {name!r}")


def _register_pipelines(_: ModuleType) -> None:
    from archit.simple.pipelines import register_pipeline

    register_pipeline()


# `pipeline("dependency-parsing", ...)` works once archit is imported; the registration waits for
# transformers.pipelines to be imported, so that `import archit` loads neither transformers nor torch.
when_imported("transformers.pipelines", _register_pipelines)
