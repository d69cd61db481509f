"""ArchIt's own API names (``basemodels``, ``heads``, ``tasks``), re-exported so its README runs verbatim.

This package holds no logic: every name is defined in :mod:`archit.modeling`.
"""
