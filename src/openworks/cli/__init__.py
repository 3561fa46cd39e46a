"""The ``openworks`` command line.

Each command group lives in its own module and registers itself on :data:`main`; every
command that touches the database takes ``--database-url`` and honours
``OPENWORKS_DATABASE_URL``.

The modules are imported when their command is named, not with this package:
``openworks serve`` loads the server and not, say, ``sync``'s planner (a faster start).
:data:`COMMANDS` says which modules make each top-level command (a group's subcommands may
come from several); ``--help`` lists them all, importing every module. The imports run with
the garbage collector paused, and what they made is then frozen out of its sight
(cli/startup.py), when a command's modules are not imported yet.
"""

from __future__ import annotations

import importlib
import sys

import click

from .startup import collector_paused

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, tuple[str, ...]] = {
    "accounts": ("users",),
    "audit": ("audit",),
    "deployments": ("deployments", "deployments_view"),  # issue 9: list / show / wait
    "environments": ("environments",),  # issue 16: source -> target pairs
    "extensions": ("extensions",),
    "keys": ("keys",),
    "resources": ("resources",),  # issue 16: resource bytes for CreateResourceFile
    "serve": ("serve",),
    "sts": ("sts",),
    "sync": ("sync",),  # issue 9: ship a folder
    "users": ("users", "console"),  # console: users passwd
    "worker": ("worker",),
    "workspace": ("workspace",),
    "workspaces": ("workspaces",),  # issue 17: list workspaces and their IDs
}
"""Top-level command name: the modules of this package that register it and its
subcommands."""


class LazyGroup(click.Group):
    """A group whose commands are imported (:data:`COMMANDS`) when first looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        modules = [f"{__name__}.{name}" for name in COMMANDS.get(cmd_name, ())]
        if not all(module in sys.modules for module in modules):
            # once a process: what importing makes lives as long as the process
            with collector_paused(freeze=True):
                for module in modules:
                    importlib.import_module(module)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.version_option(package_name="openworks")
def main() -> None:
    """openworks: a self-hostable, DataWorks-compatible deployment service."""
