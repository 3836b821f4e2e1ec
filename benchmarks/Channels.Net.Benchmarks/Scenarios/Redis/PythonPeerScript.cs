namespace Channels.Net.Benchmarks.Scenarios.Redis;

/// <summary>
/// The Python side of the redis suite: Django's channels_redis <c>RedisChannelLayer</c> driven case by
/// case over stdin/stdout. The suite writes it to a temporary file and runs it with /usr/bin/python3.
/// It times itself with <c>time.perf_counter()</c> and answers JSON.
/// </summary>
internal static class PythonPeerScript
{
    public const string FileName = "channels_redis_bench.py";

    public const string Source = """"
"""Benchmark peer: Django's channels_redis RedisChannelLayer, driven by the Channels.Net benchmark app.

Protocol: one JSON command per stdin line, one JSON answer per stdout line.
  {"op": "send_receive", "key": ..., "local": bool, "encrypted": bool, "n": N}
  {"op": "stream", "key": ..., "local": bool, "encrypted": bool, "n": N, "window": W}
  {"op": "fanout", "key": ..., "members": M, "messages": K, "layers": L, "encrypted": bool, "separate_sender": bool}
  {"op": "quit"}
Each case keeps its layers, channels and group between rounds (keyed by "key"), as a running
Django process would. Timing is time.perf_counter() around the measured part only; every
answer is sent after the layer's own background work (receive cleaners) has finished, so the
driver's Redis command counts cover the whole round.
"""
import asyncio
import json
import sys
import time

try:
    import channels_redis
    import msgpack
    import redis
    from channels_redis.core import RedisChannelLayer
except ImportError as error:  # exit 3: a missing package, named on stderr
    print(f"missing Python package: {error}. Install: apt-get install -y python3-channels-redis python3-msgpack python3-cryptography", file=sys.stderr)
    sys.exit(3)

KEY = "channels-net-bench-secret"
TEXT = "x" * 100


class Case:
    pass


CASES = {}


def make_layer(url, encrypted, capacity):
    return RedisChannelLayer(
        hosts=[url],
        prefix="pybench",
        capacity=capacity,
        symmetric_encryption_keys=[KEY] if encrypted else None,
    )


async def send_receive(url, cmd):
    case = CASES.get(cmd["key"])
    if case is None:
        case = CASES[cmd["key"]] = Case()
        case.layer = make_layer(url, cmd["encrypted"], 100)
        if cmd["local"]:
            case.channel = await case.layer.new_channel("bench")
        else:
            case.channel = "bench.sr." + cmd["key"]
    layer, channel, n = case.layer, case.channel, cmd["n"]
    message = {"type": "chat.message", "text": TEXT}
    start = time.perf_counter()
    for _ in range(n):
        await layer.send(channel, message)
        received = await layer.receive(channel)
        if received["type"] != "chat.message" or len(received["text"]) != 100:
            raise RuntimeError(f"received a wrong message: {received!r}")
    seconds = time.perf_counter() - start
    await layer.wait_received()
    return {"seconds": seconds, "ops": n}


async def stream(url, cmd):
    """One sender task keeps up to `window` messages sent but not yet received (each send its own task),
    one receiver task receives them and frees a slot per message."""
    case = CASES.get(cmd["key"])
    if case is None:
        case = CASES[cmd["key"]] = Case()
        case.layer = make_layer(url, cmd["encrypted"], 100)
        if cmd["local"]:
            case.channel = await case.layer.new_channel("bench")
        else:
            case.channel = "bench.stream." + cmd["key"]
    layer, channel, n = case.layer, case.channel, cmd["n"]
    payloads = [{"type": "chat.message", "text": TEXT, "seq": k} for k in range(n)]
    slots = asyncio.Semaphore(cmd["window"])

    async def sender():
        sends = []
        for payload in payloads:
            await slots.acquire()
            sends.append(asyncio.ensure_future(layer.send(channel, payload)))
        await asyncio.gather(*sends)

    async def receiver():
        total = 0
        for _ in range(n):
            received = await layer.receive(channel)
            if received["type"] != "chat.message" or len(received["text"]) != 100:
                raise RuntimeError(f"received a wrong message: {received!r}")
            total += received["seq"]
            slots.release()
        if total != n * (n - 1) // 2:
            raise RuntimeError(f"received the wrong messages (seq sum {total})")

    start = time.perf_counter()
    await asyncio.gather(sender(), receiver())
    seconds = time.perf_counter() - start
    await layer.wait_received()
    return {"seconds": seconds, "ops": n}


async def fanout(url, cmd):
    case = CASES.get(cmd["key"])
    members, messages, layer_count = cmd["members"], cmd["messages"], cmd["layers"]
    if case is None:
        case = CASES[cmd["key"]] = Case()
        capacity = max(1000, messages * 2)
        case.layers = [make_layer(url, cmd["encrypted"], capacity) for _ in range(layer_count)]
        # A sender of its own (another process's layer), or the first member layer.
        case.sender = make_layer(url, cmd["encrypted"], capacity) if cmd.get("separate_sender") else case.layers[0]
        case.group = "bench-fanout-" + cmd["key"]
        case.channels = []
        for i in range(members):
            layer = case.layers[i % layer_count]
            channel = await layer.new_channel("bench")
            case.channels.append((layer, channel))
            await case.sender.group_add(case.group, channel)
    sender = case.sender
    payloads = [{"type": "chat.message", "text": TEXT, "seq": k} for k in range(messages)]
    expected_sum = messages * (messages - 1) // 2

    async def member(layer, channel):
        total = 0
        for _ in range(messages):
            received = await layer.receive(channel)
            total += received["seq"]
        if total != expected_sum:
            raise RuntimeError(f"{channel} got seq sum {total}, expected {expected_sum}")

    tasks = [asyncio.ensure_future(member(layer, channel)) for layer, channel in case.channels]
    # Let every consumer reach its receive() before the clock starts (they are waiting consumers).
    for _ in range(3):
        await asyncio.sleep(0)
    start = time.perf_counter()
    for payload in payloads:
        await sender.group_send(case.group, payload)
    sent = time.perf_counter()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    for layer in case.layers:
        await layer.wait_received()
    return {"seconds": seconds, "ops": members * messages, "send_seconds": sent - start}


async def main():
    url = sys.argv[1]
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({
        "ready": True,
        "python": sys.version.split()[0],
        "channels_redis": getattr(channels_redis, "__version__", "?"),
        "redis_py": redis.__version__,
        "msgpack": ".".join(map(str, msgpack.version)),
    }), flush=True)
    while True:
        line = await reader.readline()
        if not line:
            return
        cmd = json.loads(line)
        op = cmd.get("op")
        try:
            if op == "quit":
                return
            if op == "send_receive":
                answer = await send_receive(url, cmd)
            elif op == "stream":
                answer = await stream(url, cmd)
            elif op == "fanout":
                answer = await fanout(url, cmd)
            else:
                answer = {"error": f"unknown op {op!r}"}
        except Exception as error:  # reported to the driver, which fails the run
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
"""";
}
