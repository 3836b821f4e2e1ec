"""An independent reading of Channels.Net's AEAD token format, for the .NET tests.

Run with Debian's interpreter: /usr/bin/python3 aead_reference.py aead < request.json. It uses
python3-cryptography (HKDF, AES-GCM) and python3-nacl (libsodium's XChaCha20-Poly1305 IETF), not
NSec, so the tests check the documented format rather than our code against itself:

    key    = HKDF-SHA256(ikm=utf8(secret), salt=None, info=b"channels.net/" + name, length=32)
    key id = sha256(key)[:4]  (its hex is the fingerprint Channels.Net logs)
    token  = version (0xC1 xchacha20poly1305, 0xC2 aes256gcm) | key id | 8-byte big-endian Unix
             seconds | nonce (24 / 12 bytes) | ciphertext | 16-byte tag;
             associated data = the first 13 bytes.

Request: {"secrets": [...], "dotnet_tokens": [{"cipher": name, "token": b64}],
          "make": [{"cipher": name, "plaintext": b64, "timestamp": int}]}
Answer:  {"versions": {...}, "fingerprints": {name: [...]}, "dotnet_tokens": [{"plaintext": b64,
          "key_index": i, "timestamp": t} or {"error": "..."}], "python_tokens": [b64, ...]}
"""

import base64
import hashlib
import json
import os
import struct
import sys

try:
    import cryptography
    import nacl
    import nacl.bindings
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except Exception as error:  # ImportError, or a broken installation
    sys.stderr.write(
        f"{type(error).__name__}: {error}. Install: apt-get install -y python3-cryptography python3-nacl\n"
    )
    sys.exit(3)

VERSIONS = {"xchacha20poly1305": 0xC1, "aes256gcm": 0xC2}
NONCE_LENGTHS = {"xchacha20poly1305": 24, "aes256gcm": 12}


def derive(secret, name):
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"channels.net/" + name.encode("ascii")
    ).derive(secret.encode("utf8"))


def seal(name, key, nonce, plaintext, aad):
    if name == "xchacha20poly1305":
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def open_(name, key, nonce, sealed, aad):
    if name == "xchacha20poly1305":
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, key)
    return AESGCM(key).decrypt(nonce, sealed, aad)


def main():
    if len(sys.argv) != 2 or sys.argv[1] != "aead":
        sys.stderr.write("usage: aead_reference.py aead < request.json\n")
        return 2
    request = json.load(sys.stdin)
    secrets = request["secrets"]
    keys = {name: [derive(secret, name) for secret in secrets] for name in VERSIONS}
    answer = {
        "versions": {"cryptography": cryptography.__version__, "nacl": nacl.__version__},
        "fingerprints": {name: [hashlib.sha256(k).hexdigest()[:8] for k in ks] for name, ks in keys.items()},
        "dotnet_tokens": [],
        "python_tokens": [],
    }

    for case in request["dotnet_tokens"]:
        name = case["cipher"]
        token = base64.b64decode(case["token"])
        nonce_length = NONCE_LENGTHS[name]
        try:
            if token[0] != VERSIONS[name]:
                raise ValueError(f"version byte {token[0]:#x}")
            key_id, (timestamp,) = token[1:5], struct.unpack(">Q", token[5:13])
            nonce, sealed = token[13:13 + nonce_length], token[13 + nonce_length:]
            index = next(i for i, k in enumerate(keys[name]) if hashlib.sha256(k).digest()[:4] == key_id)
            plaintext = open_(name, keys[name][index], nonce, sealed, token[:13])
            answer["dotnet_tokens"].append(
                {"plaintext": base64.b64encode(plaintext).decode("ascii"), "key_index": index, "timestamp": timestamp}
            )
        except Exception as error:  # noqa: BLE001 - every failure goes back to the test
            answer["dotnet_tokens"].append({"error": f"{type(error).__name__}: {error}"})

    for case in request["make"]:
        name = case["cipher"]
        key = keys[name][0]
        header = bytes([VERSIONS[name]]) + hashlib.sha256(key).digest()[:4] + struct.pack(">Q", case["timestamp"])
        nonce = os.urandom(NONCE_LENGTHS[name])
        token = header + nonce + seal(name, key, nonce, base64.b64decode(case["plaintext"]), header)
        answer["python_tokens"].append(base64.b64encode(token).decode("ascii"))

    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
