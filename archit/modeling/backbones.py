"""``register_backbone``: make a transformers backbone known to transformers' Auto classes and to archit (its
family and, for quirks the family data cannot state, its wrapper) in one call."""

from __future__ import annotations

from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from archit.errors import RegistrationError
from archit.modeling.wrappers import ArchitWrapper, register_wrapper
from archit.resolution import Family, ModelArchitectures

__all__ = ["register_backbone"]


def register_backbone(
    config_class: type[PretrainedConfig],
    model_class: type[PreTrainedModel],
    family: Family,
    wrapper: type[ArchitWrapper] | None = None,
    exist_ok: bool = False,
) -> Family:
    """Register a backbone with transformers' auto classes and as an archit family.

    Args:
        config_class: its config class; ``config_class.model_type`` is the key for ``AutoConfig``.
        model_class: the bare backbone class, registered with ``AutoModel``.
        family: the archit family; its ``model_types`` must contain ``config_class.model_type``.
        wrapper: an :class:`~archit.modeling.ArchitWrapper` subclass for quirks the family data cannot state.
        exist_ok: replace earlier registrations of the same names.

    Returns:
        The registered family.

    Raises:
        RegistrationError: a name is taken and ``exist_ok`` is false, or the family does not claim the
            config's model type.
    """
    model_type = config_class.model_type
    if model_type not in family.model_types:
        raise RegistrationError(
            f"Family {family.name} claims model types {family.model_types}, not {model_type!r} of "
            f"{config_class.__name__}; add it to the family's model_types."
        )
    try:
        AutoConfig.register(model_type, config_class, exist_ok=exist_ok)
        AutoModel.register(config_class, model_class, exist_ok=exist_ok)
    except ValueError as error:
        raise RegistrationError(
            f"transformers refused to register {model_type!r}: {error} Choose another model type, or pass "
            "exist_ok=True to replace your own earlier registration."
        ) from error
    ModelArchitectures.register(family, exist_ok=exist_ok)
    if wrapper is not None:
        register_wrapper(family, exist_ok=exist_ok)(wrapper)
    return family
