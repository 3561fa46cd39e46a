"""The DataWorks domain: workspaces, files, versions, deployment packages, nodes.

Pure Python: no HTTP, no SQL. Storage comes in through :mod:`openworks.core.ports`.
"""
