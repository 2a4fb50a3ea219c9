"""Network namespaces for the end-to-end tests: a process in one reaches the host over a veth pair.

A replica started in a namespace of its own (`Namespace.command`) has no loopback path to the host:
it reaches the catalog at the host side of its veth pair over TCP (a real network path, with its
own interfaces, routes and connection teardown), and the test reaches it at its side. Needs root, or
CAP_NET_ADMIN and CAP_SYS_ADMIN, and the `ip` command (iproute2); `unavailable` says why not.
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def unavailable() -> str | None:
    """Why no namespace can be made here (one line), or None; probed by making and removing one."""
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2) to make network namespaces"
    name = f"rcs-probe-{secrets.token_hex(3)}"
    made = _ip("netns", "add", name)
    if made.returncode != 0:
        return f"`ip netns add` is not permitted here (root or CAP_SYS_ADMIN needed): {made.stderr.strip()}"
    _ip("netns", "del", name)
    return None


@dataclass(frozen=True)
class Namespace:
    """`name`: the namespace; `gateway`: the host side of its veth pair (where it reaches the host's
    servers); `address`: its own side (where the host reaches its servers); both in `network`."""

    name: str
    gateway: str
    address: str
    network: str

    def command(self, command: list[str]) -> list[str]:
        """`command` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *command]


def _free_network() -> ipaddress.IPv4Network:
    """A /30 in 10.200.0.0/13 that no interface of the host uses (tests running side by side pick
    different ones by chance, and a clash is seen here)."""
    used = _ip("-o", "-4", "addr", "show").stdout
    while True:
        network = ipaddress.IPv4Network(f"10.{secrets.choice(range(200, 208))}.{secrets.randbelow(256)}.0/30")
        if f" 10.{network.network_address.packed[1]}.{network.network_address.packed[2]}." not in used:
            return network


@contextmanager
def namespace() -> Iterator[Namespace]:
    """A namespace of its own with a veth pair to the host, removed (with the pair) at the end."""
    tag = secrets.token_hex(4)
    name, outside, inside = f"rcs-{tag}", f"rvh-{tag}", f"rvn-{tag}"
    network = _free_network()
    gateway, address = (str(host) for host in network.hosts())
    steps = [
        ("netns", "add", name),
        ("link", "add", outside, "type", "veth", "peer", "name", inside),
        ("link", "set", inside, "netns", name),
        ("addr", "add", f"{gateway}/30", "dev", outside),
        ("link", "set", outside, "up"),
        ("-n", name, "addr", "add", f"{address}/30", "dev", inside),
        ("-n", name, "link", "set", inside, "up"),
        ("-n", name, "link", "set", "lo", "up"),
    ]
    try:
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                raise RuntimeError(f"ip {' '.join(step)} failed: {done.stderr.strip()}")
        yield Namespace(name, gateway, address, str(network))
    finally:
        _ip("link", "del", outside)  # takes its peer with it
        _ip("netns", "del", name)
