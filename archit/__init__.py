"""archit: task heads on any language-model backbone, any checkpoint loaded, modified models declared."""

__version__ = "0.1.0"
