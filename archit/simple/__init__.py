"""Runscripts: run configurations, task data, metrics and the ``archit`` command."""
