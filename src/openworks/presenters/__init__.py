"""Presenters: one module per entity that turns domain objects into what a reader sees.

::

    api/  cli/  console/          call the presenters; never build these documents themselves
          │
    presenters/                   pure functions over core.model objects → plain dicts, words
          │   labels.py           every word for a code: package, item, checking status,
          │                       environments, workspace modes, file types, check results
          │   deployment.py       GetDeployment, a ListDeployments row, the CLI's card
          │   file.py             GetFile/ListFiles, a file version, a file as an event saw it
          │   node.py             NodeConfiguration, GetNode/ListNodes, a node's relatives
          │   workspace.py        GetProject/ListProjects, the CLI's workspace summary
          ▼
    core/                         the domain (and protocol/ for wire-level number parsing)

A presenter reads no store and raises no domain error: the caller fetches, the presenter
shapes. A field that a document shows is therefore spelled once, whichever face shows it.
"""
