#!/usr/bin/python3
"""Attack suite: network.  No TCP/UDP to localhost, no DNS, no urllib, no
raw/packet/netlink sockets, no connecting to the daemon's own socket."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402


def no_tcp(s, ctx, r):
    return "the TCP listener got a connection" if ctx.tcp_accepted() else None


def no_udp(s, ctx, r):
    return "the UDP listener got a datagram" if ctx.udp_received() else None


ATTACKS = [
    Attack("tcp connect to 127.0.0.1", '''
import socket
def f():
    c = socket.create_connection(("127.0.0.1", @PORT@), timeout=3)
    c.sendall(b"hi")
probe("tcp", f)
''', "blocked", no_tcp),
    Attack("udp sendto 127.0.0.1", '''
import socket
def f():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"hi", ("127.0.0.1", @UDP@))
probe("udp", f)
''', "blocked", no_udp),
    Attack("ipv6 tcp socket", '''
import socket
probe("tcp6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("::1", @PORT@)))
''', "blocked"),
    Attack("dns lookup", '''
import socket
probe("dns", lambda: socket.getaddrinfo("example.com", 80))
probe("dns-udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)))
''', "blocked"),
    Attack("urllib to a local server", '''
import urllib.request
probe("urllib", lambda: urllib.request.urlopen("http://127.0.0.1:@PORT@/", timeout=3).read())
''', "blocked", no_tcp),
    Attack("raw and packet sockets", '''
import socket
probe("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
probe("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
probe("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
''', "blocked"),
    Attack("connect to the daemon's socket", '''
import socket
def f():
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect("@SOCK@")
    c.sendall(bytes([0x94, 0, 1, 0xa4]) + b"ping" + bytes([0x90]))
    return c.recv(100)
probe("daemon-socket", f)
''', "blocked"),
    Attack("bind a listening port", '''
import socket
def f():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s.getsockname()
probe("listen", f)
''', "blocked"),
]

if __name__ == "__main__":
    sys.exit(run_suite("network", ATTACKS))
