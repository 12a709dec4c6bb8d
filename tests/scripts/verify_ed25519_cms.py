#!/usr/bin/env python3
"""Independent check of an Ed25519 CMS signature (RFC 5652 + RFC 8419) made by
`rust-pki sign`, for tests: OpenSSL 3.0 cannot verify Ed25519 in CMS.

Usage: verify_ed25519_cms.py FILE.sig FILE LEAF.pem

Walks the DER by hand (no ASN.1 library shared with the Rust side), checks the digest and
signature algorithms, that the message-digest attribute is SHA-512 of FILE, rebuilds the
signed attributes with the SET OF tag (0x31) and verifies the signature over them with
`cryptography`'s Ed25519 and the leaf certificate's key. Exit 0 and "OK", or 1 and why.
"""

import base64
import hashlib
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature

OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")
OID_MESSAGE_DIGEST = bytes.fromhex("2a864886f70d010904")
OID_SHA512 = bytes.fromhex("608648016503040203")
OID_ED25519 = bytes.fromhex("2b6570")


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


def tlv(data, pos):
    """(tag, start of the whole element, start of contents, end) of the element at pos."""
    tag = data[pos]
    length = data[pos + 1]
    head = 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos + 2:pos + 2 + count], "big")
        head += count
    start = pos + head
    return tag, pos, start, start + length


def children(data, start, end):
    out = []
    pos = start
    while pos < end:
        element = tlv(data, pos)
        out.append(element)
        pos = element[3]
    return out


def content(data, element):
    return data[element[2]:element[3]]


def main():
    sig_path, file_path, leaf_path = sys.argv[1:4]
    text = open(sig_path, encoding="utf-8").read()
    begin, end = "-----BEGIN CMS-----", "-----END CMS-----"
    if begin not in text or end not in text:
        fail("no CMS block")
    body = text.split(begin, 1)[1].split(end, 1)[0]
    der = base64.b64decode("".join(body.split()))

    content_info = tlv(der, 0)
    oid, explicit = children(der, content_info[2], content_info[3])
    if content(der, oid) != OID_SIGNED_DATA:
        fail("not id-signedData")
    signed_data = children(der, explicit[2], explicit[3])[0]
    fields = children(der, signed_data[2], signed_data[3])
    version, digest_algs, encap = fields[0], fields[1], fields[2]
    signer_infos = fields[-1]
    if content(der, version) != b"\x01":
        fail("SignedData version is not 1")
    algs = children(der, digest_algs[2], digest_algs[3])
    if len(algs) != 1 or content(der, children(der, algs[0][2], algs[0][3])[0]) != OID_SHA512:
        fail("digestAlgorithms is not exactly SHA-512")
    if len(children(der, encap[2], encap[3])) != 1:
        fail("eContent present: not detached")
    infos = children(der, signer_infos[2], signer_infos[3])
    if len(infos) != 1:
        fail("not exactly one SignerInfo")
    info = children(der, infos[0][2], infos[0][3])
    signed_attrs, signature_alg, signature = info[3], info[4], info[5]
    if signed_attrs[0] != 0xA0:
        fail("no signed attributes")
    if content(der, children(der, signature_alg[2], signature_alg[3])[0]) != OID_ED25519:
        fail("signatureAlgorithm is not id-Ed25519")
    if len(info) != 6:
        fail("unsigned attributes present")

    digest = None
    for attribute in children(der, signed_attrs[2], signed_attrs[3]):
        attr_oid, values = children(der, attribute[2], attribute[3])
        if content(der, attr_oid) == OID_MESSAGE_DIGEST:
            digest = content(der, children(der, values[2], values[3])[0])
    data = open(file_path, "rb").read()
    if digest != hashlib.sha512(data).digest():
        fail("message-digest is not SHA-512 of the file")

    # RFC 5652 §5.4: the signature covers the attributes with the SET OF tag.
    to_verify = b"\x31" + der[signed_attrs[1] + 1:signed_attrs[3]]
    leaf = x509.load_pem_x509_certificate(open(leaf_path, "rb").read())
    try:
        leaf.public_key().verify(content(der, signature), to_verify)
    except InvalidSignature:
        fail("the Ed25519 signature does not verify with the leaf's key")
    print("OK")


if __name__ == "__main__":
    main()
