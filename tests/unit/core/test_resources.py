"""Download links are signed and expire; ResourceFile URLs are read, never fetched."""

from __future__ import annotations

import urllib.parse

import pytest

from openworks.core.errors import Invalid
from openworks.core.resources import DownloadLinks, ResourceInput, _source, upload_url

DIGEST = "ab" * 32


def test_a_link_verifies_until_it_expires_and_binds_digest_and_name() -> None:
    links = DownloadLinks(b"k" * 32, "http://h:1/", ttl=60)
    link = links.link(DIGEST, "a b.jar", 1000)
    path, _, query = link.partition("?")
    assert path == f"http://h:1/resources/sha256/{DIGEST}"
    q = dict(urllib.parse.parse_qsl(query))
    assert links.valid(DIGEST, "a b.jar", q["expires"], q["signature"], 1060)
    assert not links.valid(DIGEST, "a b.jar", q["expires"], q["signature"], 1061)
    assert not links.valid("cd" * 32, "a b.jar", q["expires"], q["signature"], 1000)
    assert not links.valid(DIGEST, "other.jar", q["expires"], q["signature"], 1000)
    assert not links.valid(DIGEST, "a b.jar", "x", q["signature"], 1000)
    other = DownloadLinks(b"j" * 32, "http://h:1/")
    assert not other.valid(DIGEST, "a b.jar", q["expires"], q["signature"], 1000)


def _input(**kw: str) -> ResourceInput:
    return ResourceInput(origin_name="a.jar", register_to_calc_engine=False, **kw)


def test_sources() -> None:
    assert _source(_input(content="é")) == ("é".encode(), None)
    assert _source(_input(resource_file="data:,a%20b")) == (b"a b", None)
    assert _source(_input(resource_file="data:x;base64,AAE=")) == (b"\x00\x01", None)
    assert _source(_input(resource_file=upload_url("https://x/", DIGEST))) == (None, DIGEST)
    for bad in ("ftp://x/resources/sha256/" + DIGEST, "http://x/other", "data:no-comma"):
        with pytest.raises(Invalid):
            _source(_input(resource_file=bad))
