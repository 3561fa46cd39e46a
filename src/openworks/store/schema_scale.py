"""Tables for running several processes on one database: the shared replay cache."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from .schema import metadata

__all__ = ["nonces"]

# One row per (AccessKey, signature nonce) seen within the replay window; the key is a hex
# digest so that neither value is stored as sent.
nonces = Table(
    "nonces",
    metadata,
    Column("digest", String(32), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)
