"""Scholarly metadata (Crossref, OpenAlex, DataCite, JATS, PubMed) -> the BIBFRAME model MARC uses.

One converter per format fills ``work.ScholarlyWork``; ``mapper`` writes the graph
(docs/mapping.md, "Scholarly works").
"""
