#!/usr/bin/env python3
"""Independent C2SP signed-note (Ed25519) and tlog-cosignature/v1 check, for interop tests.

Written from the specs (c2sp.org/signed-note, c2sp.org/tlog-cosignature), using only the
standard library and `cryptography`. Usage:
  signed_note.py verify NOTE_FILE VKEY          exit 0 if VKEY's signature verifies
  signed_note.py verify-cosig NOTE_FILE VKEY    exit 0 if VKEY's (type 0x04) cosignature verifies
  signed_note.py sign NAME TEXT_FILE NOTE_OUT VKEY_OUT   sign TEXT with a fresh key
"""
import base64
import hashlib
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DASH = "\u2014"


def key_hash(name: str, typ: int, pub: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + pub).digest()[:4]


def parse_vkey(vkey: str):
    name, hexid, b64 = vkey.strip().split("+", 2)
    material = base64.b64decode(b64, validate=True)
    typ, pub = material[0], material[1:]
    if len(pub) != 32 or key_hash(name, typ, pub) != bytes.fromhex(hexid):
        raise ValueError("bad vkey")
    return name, typ, bytes.fromhex(hexid), Ed25519PublicKey.from_public_bytes(pub)


def split_note(data: bytes):
    text, sigs = data.decode("utf-8").rsplit("\n\n", 1)
    lines = [l for l in sigs.split("\n") if l]
    return (text + "\n").encode(), lines


def find_sig(lines, name, kid):
    for line in lines:
        if not line.startswith(DASH + " "):
            raise ValueError("bad signature line")
        lname, b64 = line[2:].split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        if lname == name and raw[:4] == kid:
            return raw[4:]
    raise ValueError("no signature by this key")


def main(argv):
    cmd = argv[1]
    if cmd in ("verify", "verify-cosig"):
        data = open(argv[2], "rb").read()
        name, typ, kid, pub = parse_vkey(argv[3])
        text, lines = split_note(data)
        sig = find_sig(lines, name, kid)
        if cmd == "verify":
            assert typ == 0x01, "not a note key"
            msg = text
        else:
            assert typ == 0x04, "not a cosignature/v1 key"
            assert len(sig) == 72
            (ts,) = struct.unpack(">Q", sig[:8])
            msg = b"cosignature/v1\ntime %d\n" % ts + text
            sig = sig[8:]
        try:
            pub.verify(sig, msg)
        except InvalidSignature:
            print("BAD SIGNATURE", file=sys.stderr)
            return 1
        print("OK")
        return 0
    if cmd == "sign":
        name = argv[2]
        text = open(argv[3], "rb").read()
        key = Ed25519PrivateKey.generate()
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        kid = key_hash(name, 0x01, pub)
        sig = key.sign(text)
        line = "%s %s %s\n" % (DASH, name, base64.b64encode(kid + sig).decode())
        open(argv[4], "wb").write(text + b"\n" + line.encode())
        vkey = "%s+%s+%s\n" % (name, kid.hex(), base64.b64encode(b"\x01" + pub).decode())
        open(argv[5], "w").write(vkey)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
