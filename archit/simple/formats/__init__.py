"""File formats that task data and metrics share, below both: :mod:`archit.simple.formats.conllu` reads and
writes CoNLL-U treebanks."""
