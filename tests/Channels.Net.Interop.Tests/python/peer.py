"""A channels_redis peer driven by JSON lines, for Channels.Net's interop tests.

Run with Debian's interpreter: /usr/bin/python3 peer.py. It hosts any number of
channels_redis.core.RedisChannelLayer or channels_redis.pubsub.RedisPubSubChannelLayer instances
("layers", opened by name; "kind": "pubsub" in open_layer picks the latter) in one asyncio loop,
reads one JSON command per line from stdin and writes one JSON answer per line to stdout.
Commands run concurrently (a receive that waits does not hold up the others) and answers carry
the command's "id".

    -> {"id": 1, "op": "open_layer", "layer": "a", "config": {"hosts": [...], "prefix": "p",
        "capacity": 3, "expiry": 60, "group_expiry": 86400, "channel_capacity": [["glob", 5]],
        "symmetric_encryption_keys": ["new", "old"]}}
    <- {"id": 1, "ok": true, "result": {"client_prefix": "..."}}
    -> {"id": 2, "op": "send", "layer": "a", "channel": "worker", "message": <value>}
    <- {"id": 2, "ok": false, "error": {"type": "channels.exceptions.ChannelFull", "name": "ChannelFull", ...}}

Operations: open_layer, close_layer, new_channel, send, receive (with "timeout" in seconds; the
result is {"message": <value>} or {"timeout": true}), listen (pub/sub layers: start receiving on a
channel, which subscribes it), group_add, group_discard, group_send, flush,
serialize (the layer's own member bytes for a message), deserialize (member bytes -> the raw dict,
__asgi_channel__ included), decrypt (a Fernet token -> plaintext with the layer's keys and
ttl), packb (msgpack.packb(value, use_bin_type=True)), fingerprints (of the layer's keys), echo, ping.

Values travel as JSON with tags for what JSON lacks or blurs, so nothing is rounded or retyped:
    None/True/False   -> null/true/false
    int               -> {"$int": "decimal digits"}
    float             -> {"$float": "16 hex digits"}  (the IEEE-754 bits, big-endian: -0.0, nan, inf exact)
    bytes             -> {"$bytes": "standard base64"}
    str               -> a JSON string (ASCII-escaped; astral characters as surrogate pairs)
    list              -> a JSON array
    dict (str keys)   -> {"$map": [["key", <value>], ...]}  (order kept)

On a pub/sub layer, a cancelled receive() unsubscribes its channel (channels_redis does that), so
receive and listen go through one long-lived receiving task per channel that feeds a queue: a receive
that times out leaves the subscription alone.

Startup: the first line written is {"ready": true, "versions": {...}} once the imports succeeded,
or {"fatal": "..."} (exit code 3) when channels_redis or a dependency cannot be imported.
"""

import asyncio
import base64
import hashlib
import json
import struct
import sys
import threading
import traceback

try:
    import channels
    import channels_redis
    import cryptography
    import msgpack
    import redis
    from channels.exceptions import ChannelFull
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer
except Exception as error:  # ImportError, or a broken installation
    sys.stdout.write(json.dumps({"fatal": f"{type(error).__name__}: {error}"}) + "\n")
    sys.stdout.flush()
    sys.exit(3)


class TagError(ValueError):
    pass


def encode(value):
    """A Python value as tagged JSON."""
    if value is None or value is True or value is False:
        return value
    if type(value) is int:
        return {"$int": str(value)}
    if type(value) is float:
        return {"$float": struct.pack(">d", value).hex()}
    if type(value) is str:
        return value
    if type(value) in (bytes, bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if type(value) in (list, tuple):
        return [encode(item) for item in value]
    if type(value) is dict:
        entries = []
        for key, item in value.items():
            if type(key) is not str:
                raise TagError(f"map key {key!r} is a {type(key).__name__}, not a str")
            entries.append([key, encode(item)])
        return {"$map": entries}
    raise TagError(f"cannot tag a {type(value).__name__}: {value!r}")


def decode(value):
    """Tagged JSON as a Python value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict) and len(value) == 1:
        (tag, body), = value.items()
        if tag == "$int":
            return int(body, 10)
        if tag == "$float":
            return struct.unpack(">d", bytes.fromhex(body))[0]
        if tag == "$bytes":
            return base64.b64decode(body, validate=True)
        if tag == "$map":
            result = {}
            for key, item in body:
                if type(key) is not str or key in result:
                    raise TagError(f"bad or repeated map key {key!r}")
                result[key] = decode(item)
            return result
    raise TagError(f"untagged JSON value {value!r} (numbers and objects must be tagged)")


def fingerprint(symmetric_key):
    """The key fingerprint Channels.Net logs: sha256 over the 32 Fernet key bytes, 8 hex digits."""
    if isinstance(symmetric_key, str):
        symmetric_key = symmetric_key.encode("utf8")
    fernet_key = hashlib.sha256(symmetric_key).digest()  # what make_fernet base64-encodes
    return hashlib.sha256(fernet_key).hexdigest()[:8]


class Peer:
    def __init__(self, loop):
        self.loop = loop
        self.layers = {}
        self.configs = {}
        self.kinds = {}
        self.listeners = {}  # (layer name, channel) -> (task, asyncio.Queue)
        self.tasks = set()

    def layer(self, command):
        name = command.get("layer", "default")
        try:
            return self.layers[name]
        except KeyError:
            raise KeyError(f"no open layer named {name!r}") from None

    async def op_ping(self, command):
        return "pong"

    async def op_echo(self, command):
        return encode(decode(command["value"]))

    async def op_packb(self, command):
        return encode(msgpack.packb(decode(command["value"]), use_bin_type=True))

    async def op_open_layer(self, command):
        name = command.get("layer", "default")
        if name in self.layers:
            raise KeyError(f"layer {name!r} is already open")
        config = dict(command.get("config") or {})
        kind = command.get("kind", "core")
        if "channel_capacity" in config:
            config["channel_capacity"] = {pattern: capacity for pattern, capacity in config["channel_capacity"]}
        if kind == "pubsub":
            layer = RedisPubSubChannelLayer(**config)
            client_prefix = ""
        elif kind == "core":
            layer = RedisChannelLayer(**config)
            client_prefix = layer.client_prefix
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        self.layers[name] = layer
        self.configs[name] = config
        self.kinds[name] = kind
        return {"client_prefix": client_prefix}

    async def op_close_layer(self, command):
        name = command.get("layer", "default")
        layer = self.layers.pop(name, None)
        self.configs.pop(name, None)
        kind = self.kinds.pop(name, "core")
        for key in [key for key in self.listeners if key[0] == name]:
            task, _ = self.listeners.pop(key)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        if layer is not None:
            if kind == "pubsub" or command.get("flush"):
                await layer.flush()  # the pub/sub layer's flush also closes its connections
            else:
                await layer.close_pools()
        return None

    def listener(self, command):
        """The queue fed by the one receiving task of a pub/sub layer's channel (started on first use)."""
        name = command.get("layer", "default")
        layer = self.layer(command)
        key = (name, command["channel"])
        if key not in self.listeners:
            queue = asyncio.Queue()

            async def receive_forever():
                while True:
                    queue.put_nowait(await layer.receive(key[1]))

            self.listeners[key] = (self.loop.create_task(receive_forever()), queue)
        return self.listeners[key][1]

    async def op_listen(self, command):
        if self.kinds.get(command.get("layer", "default")) != "pubsub":
            raise ValueError("listen is for pub/sub layers")
        self.listener(command)
        return None

    async def op_new_channel(self, command):
        prefix = command.get("prefix")
        layer = self.layer(command)
        # No prefix: the layer's own default, as a Django consumer calls it ("specific" on the core
        # layer, which adds the dot; "specific." on the pub/sub layer).
        return await (layer.new_channel() if prefix is None else layer.new_channel(prefix))

    async def op_send(self, command):
        await self.layer(command).send(command["channel"], decode(command["message"]))
        return None

    async def op_receive(self, command):
        if self.kinds.get(command.get("layer", "default")) == "pubsub":
            receive = self.listener(command).get()
        else:
            receive = self.layer(command).receive(command["channel"])
        try:
            message = await asyncio.wait_for(receive, float(command.get("timeout", 5)))
        except asyncio.TimeoutError:
            return {"timeout": True}
        return {"message": encode(message)}

    async def op_group_add(self, command):
        await self.layer(command).group_add(command["group"], command["channel"])
        return None

    async def op_group_discard(self, command):
        await self.layer(command).group_discard(command["group"], command["channel"])
        return None

    async def op_group_send(self, command):
        await self.layer(command).group_send(command["group"], decode(command["message"]))
        return None

    async def op_flush(self, command):
        await self.layer(command).flush()
        return None

    async def op_serialize(self, command):
        message = decode(command["message"])
        if "asgi_channel" in command:
            message = dict(message.items())
            message["__asgi_channel__"] = decode(command["asgi_channel"])
        return encode(self.layer(command).serialize(message))

    async def op_deserialize(self, command):
        return encode(self.layer(command).deserialize(decode(command["member"])))

    async def op_decrypt(self, command):
        layer = self.layer(command)
        if layer.crypter is None:
            raise ValueError("the layer has no symmetric_encryption_keys")
        return encode(layer.crypter.decrypt(decode(command["token"]), layer.expiry + 10))

    async def op_fingerprints(self, command):
        name = command.get("layer", "default")
        self.layer(command)
        return [fingerprint(key) for key in self.configs[name].get("symmetric_encryption_keys") or []]

    async def run(self, command):
        ident = command.get("id")
        try:
            handler = getattr(self, "op_" + str(command.get("op")), None)
            if handler is None:
                raise ValueError(f"unknown op {command.get('op')!r}")
            answer = {"id": ident, "ok": True, "result": await handler(command)}
        except BaseException as error:  # noqa: B902 - every failure goes back to the test
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            kind = type(error)
            answer = {
                "id": ident,
                "ok": False,
                "error": {
                    "type": f"{kind.__module__}.{kind.__qualname__}",
                    "name": kind.__name__,
                    "message": str(error),
                    "channel_full": isinstance(error, ChannelFull),
                    "traceback": traceback.format_exc(),
                },
            }
        self.write(answer)

    def write(self, answer):
        sys.stdout.write(json.dumps(answer, ensure_ascii=True) + "\n")
        sys.stdout.flush()

    def submit(self, line):
        if line is None:
            self.stop.set()
            return
        line = line.strip()
        if not line:
            return
        try:
            command = json.loads(line)
        except ValueError as error:
            self.write({"id": None, "ok": False, "error": {"type": "json", "name": "JSONDecodeError", "message": str(error), "channel_full": False, "traceback": ""}})
            return
        task = self.loop.create_task(self.run(command))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def main(self):
        self.stop = asyncio.Event()

        def read_stdin():
            for raw in sys.stdin.buffer:
                self.loop.call_soon_threadsafe(self.submit, raw.decode("utf8"))
            self.loop.call_soon_threadsafe(self.submit, None)

        threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
        self.write({
            "ready": True,
            "versions": {
                "python": sys.version.split()[0],
                "channels": channels.__version__,
                "channels_redis": channels_redis.__version__,
                "redis": redis.__version__,
                "msgpack": ".".join(map(str, msgpack.version)),
                "cryptography": cryptography.__version__,
            },
        })
        await self.stop.wait()  # stdin closed: the test is done with us
        for task in list(self.tasks):
            task.cancel()
        for task, _ in list(self.listeners.values()):
            task.cancel()
        for name, layer in list(self.layers.items()):
            try:
                if self.kinds.get(name) == "pubsub":
                    await asyncio.wait_for(layer.flush(), 2)
                else:
                    await asyncio.wait_for(layer.close_pools(), 2)
            except Exception:  # noqa: BLE001 - closing on the way out
                pass


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(Peer(loop).main())
    finally:
        loop.close()
