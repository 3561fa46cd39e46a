"""Tables of the test-control policy (``openworks serve --control``, :mod:`openworks.testing`).

``control_state`` holds one row (``id = 1``): the execution mode for new packages, the
forced failures still to hand out and the ID seed. ``control_gates`` holds one row per
package the mode is keeping from the worker::

    control_gates(package_id, kind, run_after)
        kind 'manual'  run_after NULL        waits for release
        kind 'delay'   run_after epoch ms    claimable from then on

The gate is separate from ``packages.hold`` (checks and approvals), so both compose: the
worker claims a package only when ``hold IS NULL`` and no gate row blocks it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, text

from .schema import ID, metadata

__all__ = ["control_gates", "control_state"]

control_state = Table(
    "control_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("mode", String(16), nullable=False, server_default="instant"),
    Column("delay_ms", BigInteger, nullable=False, server_default=text("0")),
    Column("fail_remaining", Integer, nullable=False, server_default=text("0")),
    Column("fail_message", Text, nullable=False, server_default=""),
    Column("fail_item_status", Integer, nullable=False, server_default=text("2")),
    Column("seed", BigInteger, nullable=False, server_default=text("0")),
)

control_gates = Table(
    "control_gates",
    metadata,
    Column("package_id", ID, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("run_after", BigInteger),
)
