"""The library ontology: vocabulary, shapes, namespaces and the exception family.

This layer imports nothing else from Catalograph; every other layer imports it.
"""
