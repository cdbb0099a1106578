"""Imported first by the query workers' forkserver (``query.execution``'s preload), and by
nothing else: importing it ties the forkserver and its workers to the server
(``query.lifeline``), before the slower imports of the workers' modules."""

from query.lifeline import guard_forkserver

guard_forkserver()
