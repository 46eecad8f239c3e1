"""A VM's VLAN interface (`eth0.<vid>`), done in user space over a packet socket (not a test
module): the lab's kernel has no 802.1Q driver (no CONFIG_VLAN_8021Q, no bridge VLAN
filtering), so the tagging Linux would do is done here, frame by frame.

    python3 vlan_nic.py answer DEV VID MAC IP
        answers ARP and ICMP echo for IP on VLAN VID (prints "ready", runs until killed)
    python3 vlan_nic.py ping DEV VID MAC IP TARGET [SECONDS]
        resolves TARGET by ARP and pings it, all tagged VID; exit 0 on an echo reply

Frames are sent with the 802.1Q header inline; received ones may have it inline or (as the
kernel takes it off on receive) in the packet socket's auxiliary data. Only frames of VLAN
VID count, as only those reach a Linux `eth0.<vid>`.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP = 0x0003, 0x8100, 0x0806, 0x0800
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID, PACKET_OUTGOING = 263, 8, 1 << 4, 4
AUXDATA = struct.Struct("IIIHHHH")  # struct tpacket_auxdata
BROADCAST = b"\xff" * 6


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4(src: bytes, dst: bytes, payload: bytes) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, 1, 0,
                         src, dst)
    return header[:10] + struct.pack("!H", _checksum(header)) + header[12:] + payload


def _icmp(kind: int, ident: int, seq: int, data: bytes) -> bytes:
    body = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data
    return body[:2] + struct.pack("!H", _checksum(body)) + body[4:]


def _arp(op: int, mac: bytes, ip: bytes, target_mac: bytes, target_ip: bytes) -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, mac, ip, target_mac, target_ip)


class Nic:
    def __init__(self, device: str, vid: int, mac: str, ip: str) -> None:
        self.vid, self.mac, self.ip = vid, _mac(mac), socket.inet_aton(ip)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.sock.bind((device, ETH_P_ALL))

    def send(self, dst: bytes, ethertype: int, payload: bytes) -> None:
        self.sock.send(dst + self.mac + struct.pack("!HHH", ETH_P_8021Q, self.vid, ethertype)
                       + payload)

    def receive(self, timeout: float) -> tuple[bytes, int, bytes] | None:
        """The next incoming frame of our VLAN: (source MAC, ethertype, payload)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([self.sock], [], [], left)[0]:
                return None
            frame, ancillary, _, address = self.sock.recvmsg(65536, socket.CMSG_SPACE(64))
            if address[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            vid, ethertype, payload = 0, struct.unpack("!H", frame[12:14])[0], frame[14:]
            for level, kind, data in ancillary:
                if (level, kind) == (SOL_PACKET, PACKET_AUXDATA):
                    status, _, _, _, _, tci, _ = AUXDATA.unpack(data[:AUXDATA.size])
                    if status & TP_STATUS_VLAN_VALID:
                        vid = tci & 0xFFF
            if ethertype == ETH_P_8021Q and len(payload) >= 4:  # the tag still inline
                vid = struct.unpack("!H", payload[:2])[0] & 0xFFF
                ethertype, payload = struct.unpack("!H", payload[2:4])[0], payload[4:]
            if vid == self.vid and frame[:6] in (self.mac, BROADCAST):
                return frame[6:12], ethertype, payload
        return None

    def answer(self, src: bytes, ethertype: int, payload: bytes) -> None:
        """What `eth0.<vid>` would answer: ARP requests for its address, echo requests."""
        if ethertype == ETH_P_ARP and len(payload) >= 28:
            op, sender_mac, sender_ip, target_ip = (struct.unpack("!H", payload[6:8])[0],
                                                    payload[8:14], payload[14:18],
                                                    payload[24:28])
            if op == 1 and target_ip == self.ip:
                self.send(sender_mac, ETH_P_ARP,
                          _arp(2, self.mac, self.ip, sender_mac, sender_ip))
        elif ethertype == ETH_P_IP and len(payload) >= 28 and payload[9] == 1:
            length = (payload[0] & 0xF) * 4
            icmp = payload[length:struct.unpack("!H", payload[2:4])[0]]
            if payload[16:20] == self.ip and icmp[:1] == b"\x08":
                ident, seq = struct.unpack("!HH", icmp[4:8])
                self.send(src, ETH_P_IP,
                          _ipv4(self.ip, payload[12:16], _icmp(0, ident, seq, icmp[8:])))

    def resolve(self, target: bytes, deadline: float) -> bytes | None:
        while time.monotonic() < deadline:
            self.send(BROADCAST, ETH_P_ARP, _arp(1, self.mac, self.ip, b"\0" * 6, target))
            end = min(deadline, time.monotonic() + 0.5)
            while (got := self.receive(end - time.monotonic())) is not None:
                _, ethertype, payload = got
                if (ethertype == ETH_P_ARP and struct.unpack("!H", payload[6:8])[0] == 2
                        and payload[14:18] == target):
                    return payload[8:14]
        return None

    def ping(self, target_ip: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        target = socket.inet_aton(target_ip)
        target_mac = self.resolve(target, deadline)
        ident, seq = os.getpid() & 0xFFFF, 0
        while target_mac is not None and time.monotonic() < deadline:
            seq += 1
            self.send(target_mac, ETH_P_IP,
                      _ipv4(self.ip, target, _icmp(8, ident, seq, b"vlan-nic" * 4)))
            end = min(deadline, time.monotonic() + 0.5)
            while (got := self.receive(end - time.monotonic())) is not None:
                _, ethertype, payload = got
                if ethertype != ETH_P_IP or payload[12:16] != target or payload[9] != 1:
                    continue
                icmp = payload[(payload[0] & 0xF) * 4:]
                if icmp[:1] == b"\x00" and struct.unpack("!H", icmp[4:6])[0] == ident:
                    return True
        return False


def main(argv: list[str]) -> int:
    mode, device, vid, mac, ip = argv[:5]
    nic = Nic(device, int(vid), mac, ip)
    if mode == "ping":
        return 0 if nic.ping(argv[5], float(argv[6]) if len(argv) > 6 else 3) else 1
    print("ready", flush=True)
    while True:
        got = nic.receive(3600)
        if got is not None:
            nic.answer(*got)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
