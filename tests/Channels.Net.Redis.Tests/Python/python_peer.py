"""The real Python peer for Channels.Net.Redis's interop tests.

Run by the tests as `/usr/bin/python3 -I -B python_peer.py COMMAND` with a JSON request on stdin;
writes a JSON answer on stdout. Uses the packages a Django deployment uses: msgpack,
cryptography and channels_redis (Debian: python3-msgpack python3-cryptography
python3-channels-redis). Exits with status 3 and a message on stderr when one is missing, so the
tests fail with that message instead of passing silently.

Tagged values (how the tests describe a message value in JSON without losing its type):
  ["nil"] ["bool", b] ["int", "decimal"] ["float", "16 hex digits of the IEEE 754 bits"]
  ["str", "base64 of UTF-8"] ["bin", "base64"] ["list", [tagged...]]
  ["map", [["base64 of UTF-8 key", tagged], ...]]
"""

import base64
import hashlib
import json
import struct
import sys

try:
    import msgpack
    import cryptography
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet
    import channels_redis
    from channels_redis.core import RedisChannelLayer
except ImportError as error:  # pragma: no cover - reported to the test
    sys.stderr.write(
        "python_peer.py: a Python package the interop tests need is missing (%s) in %s. "
        "Install the Debian packages: apt-get install python3-msgpack python3-cryptography "
        "python3-channels-redis\n" % (error, sys.executable)
    )
    sys.exit(3)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text)


def from_tagged(tagged):
    kind = tagged[0]
    if kind == "nil":
        return None
    if kind == "bool":
        return bool(tagged[1])
    if kind == "int":
        return int(tagged[1])
    if kind == "float":
        return struct.unpack(">d", bytes.fromhex(tagged[1]))[0]
    if kind == "str":
        return unb64(tagged[1]).decode("utf-8")
    if kind == "bin":
        return unb64(tagged[1])
    if kind == "list":
        return [from_tagged(item) for item in tagged[1]]
    if kind == "map":
        result = {}
        for key, value in tagged[1]:
            result[unb64(key).decode("utf-8")] = from_tagged(value)
        return result
    raise ValueError("unknown tag %r" % (kind,))


def to_tagged(value):
    """The tagged form of what Channels.Net must read for a Python value (keys as .NET reads them)."""
    if value is None:
        return ["nil"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", struct.pack(">d", value).hex()]
    if isinstance(value, str):
        return ["str", b64(value.encode("utf-8"))]
    if isinstance(value, (bytes, bytearray)):
        return ["bin", b64(bytes(value))]
    if isinstance(value, (list, tuple)):
        return ["list", [to_tagged(item) for item in value]]
    if isinstance(value, dict):
        entries = []
        for key, item in value.items():
            if isinstance(key, bytes):
                key = key.decode("utf-8")
            elif isinstance(key, int) and not isinstance(key, bool):
                key = str(key)
            entries.append([b64(key.encode("utf-8")), to_tagged(item)])
        return ["map", entries]
    raise TypeError("no tagged form for %r" % (type(value),))


def same(a, b):
    """Strict deep equality: types must match (Python's == says 1 == 1.0 == True), floats by bits."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    return a == b


def versions():
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "msgpack": ".".join(str(part) for part in msgpack.version),
        "cryptography": cryptography.__version__,
        "channels_redis": getattr(channels_redis, "__version__", "?"),
    }


def read_back(packed, expected):
    """Python reading bytes Channels.Net wrote: (ok, detail)."""
    try:
        decoded = msgpack.unpackb(packed, raw=False)
    except Exception as error:  # noqa: BLE001 - reported to the test
        return False, "unpackb raised %r" % (error,)
    if not same(decoded, expected):
        return False, "unpackb gave %r, expected %r" % (decoded, expected)
    return True, ""


def command_msgpack(request):
    layer = RedisChannelLayer()
    answer = {"versions": versions(), "values": [], "messages": [], "python_only": []}

    for case in request["values"]:
        value = from_tagged(case["value"])
        packed = msgpack.packb(value, use_bin_type=True)
        ok, detail = read_back(unb64(case["dotnet"]), value)
        answer["values"].append({"name": case["name"], "python": b64(packed), "read_ok": ok, "detail": detail})

    for case in request["messages"]:
        message = from_tagged(case["message"])
        asgi = case.get("asgi")
        if asgi is None:
            # RedisChannelLayer.send to a plain channel: the message as it is.
            member = layer.serialize(message)
            expected = message
        elif isinstance(asgi, str):
            # RedisChannelLayer.send to a process-local channel (core.py): copy, then add the key.
            sent = dict(message.items())
            sent["__asgi_channel__"] = asgi
            member = layer.serialize(sent)
            expected = sent
        else:
            # RedisChannelLayer.group_send: the real bucketing code, all names under one key.
            _, by_key, _ = layer._map_channel_keys_to_connection(asgi, message)
            if len(by_key) != 1:
                raise ValueError("the test's channel names must share one Redis key: %r" % (asgi,))
            member = next(iter(by_key.values()))
            expected = dict(message.items())
            expected["__asgi_channel__"] = list(asgi)
        dotnet_member = unb64(case["dotnet_member"])
        try:
            decoded = layer.deserialize(dotnet_member)
            ok = same(decoded, expected)
            detail = "" if ok else "deserialize gave %r, expected %r" % (decoded, expected)
        except Exception as error:  # noqa: BLE001
            ok, detail = False, "deserialize raised %r" % (error,)
        answer["messages"].append({
            "name": case["name"],
            "python_member": b64(member),
            "read_ok": ok,
            "detail": detail,
        })

    # Values only Python writes this way: what Channels.Net must accept (or refuse clearly).
    python_only = [
        ("int key", {"type": "t", 1: "one", -5: "minus five", 2**64 - 1: "max"}),
        ("bytes key", {b"type": "t", b"k\xc3\xa9": 1}),
        ("tuple is a list", {"type": "t", "pair": (1, "two")}),
        ("nested keys", {"type": "t", "m": {7: {b"x": [b"\x00"]}}}),
    ]
    for name, value in python_only:
        answer["python_only"].append({"name": name, "packed": b64(msgpack.packb(value, use_bin_type=True)), "expected": to_tagged(value), "error": None})
    single = msgpack.Packer(use_bin_type=True, use_single_float=True)
    answer["python_only"].append({
        "name": "float32",
        "packed": b64(single.pack({"type": "t", "f": 1.5, "g": -0.1})),
        "expected": to_tagged({"type": "t", "f": 1.5, "g": struct.unpack(">f", struct.pack(">f", -0.1))[0]}),
        "error": None,
    })
    for name, value in [
        ("ext type", {"type": "t", "e": msgpack.ExtType(5, b"\x01\x02")}),
        ("timestamp", {"type": "t", "when": msgpack.Timestamp(1, 0)}),
        ("bool key", {"type": "t", True: 1}),
        ("None key", {"type": "t", None: 1}),
        ("float key", {"type": "t", 1.5: 1}),
        ("int and str key collide", {"type": "t", 1: "a", "1": "b"}),
        ("bytes key not utf-8", {"type": "t", b"\xff": 1}),
        ("not a map", ["type", "t"]),
        ("type is bytes", {"type": b"t"}),
        ("no type", {"message": "x"}),
    ]:
        answer["python_only"].append({"name": name, "packed": b64(msgpack.packb(value, use_bin_type=True)), "expected": None, "error": name})
    return answer


def command_fernet(request):
    secrets = request["secrets"]
    ttl = request["ttl"]
    answer = {"versions": versions(), "keys": [], "python_tokens": [], "dotnet_tokens": [], "fixed": [], "layer": {}}

    formatted = []
    for secret in secrets:
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf8")).digest())
        formatted.append(key)
        answer["keys"].append({
            "secret": secret,
            "fernet_key": key.decode("ascii"),
            "fingerprint": hashlib.sha256(base64.urlsafe_b64decode(key)).hexdigest()[:8],
        })
    # A rotation in progress: Python already encrypts with the second secret, .NET still lists it second.
    python_side = MultiFernet([Fernet(formatted[1]), Fernet(formatted[0])])
    only_first = Fernet(formatted[0])
    only_second = Fernet(formatted[1])

    for text in request["plaintexts"]:
        answer["python_tokens"].append(python_side.encrypt(unb64(text)).decode("ascii"))

    for case in request["dotnet_tokens"]:
        token = case["token"].encode("ascii")
        result = {}
        for name, crypter in (("both", python_side), ("first", only_first), ("second", only_second)):
            try:
                result[name] = b64(crypter.decrypt(token, ttl))
            except InvalidToken:
                result[name] = None
        answer["dotnet_tokens"].append(result)

    for case in request["fixed"]:
        token = only_first._encrypt_from_parts(unb64(case["plaintext"]), case["timestamp"], unb64(case["iv"]))
        answer["fixed"].append(token.decode("ascii"))

    # channels_redis itself: serialize with the second secret first, read what .NET wrote.
    layer = RedisChannelLayer(symmetric_encryption_keys=[secrets[1], secrets[0]])
    message = from_tagged(request["layer"]["message"])
    answer["layer"]["python_member"] = b64(layer.serialize(message))
    readers = {
        "both": layer,
        "first": RedisChannelLayer(symmetric_encryption_keys=[secrets[0]]),
        "second": RedisChannelLayer(symmetric_encryption_keys=[secrets[1]]),
    }
    for name, reader in readers.items():
        try:
            decoded = reader.deserialize(unb64(request["layer"]["dotnet_member"]))
            answer["layer"][name] = "ok" if same(decoded, message) else "different: %r" % (decoded,)
        except InvalidToken:
            answer["layer"][name] = "InvalidToken"
    return answer


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("msgpack", "fernet", "versions"):
        sys.stderr.write("usage: python_peer.py msgpack|fernet|versions < request.json\n")
        return 2
    command = sys.argv[1]
    if command == "versions":
        answer = versions()
    else:
        request = json.load(sys.stdin)
        answer = command_msgpack(request) if command == "msgpack" else command_fernet(request)
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
