"""Declaration: turn a model modified in place into importable class code.

``printDifference(model, RobertaForMaskedLM)`` prints the classes; :func:`generate_difference` returns them
and :func:`write_difference` writes an importable module. Modules whose constructor arguments the compiler
cannot read back are built inside :func:`record_init_args`. This package only knows torch.
"""

from archit.declaration.compiler import generate_difference, print_difference, printDifference, write_difference
from archit.declaration.recording import InitArguments, record_init_args, recorded_init_args

__all__ = [
    "InitArguments",
    "generate_difference",
    "printDifference",
    "print_difference",
    "record_init_args",
    "recorded_init_args",
    "write_difference",
]
