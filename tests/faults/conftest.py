"""The guard every fault test may ask for."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Refuse (and record) every connection to an address off loopback: the tests never send one."""
    import ipaddress
    import socket

    attempts = []
    connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            attempts.append(address)
            raise OSError(f"test guard: no connection off loopback ({address!r})")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts
