"""Settings of the tutorial's chat site, as the interop tests run it under daphne.

The channel layer is channels_redis on the Redis the tests start:
    CHAT_REDIS_URL         redis://127.0.0.1:<port>/0  (required)
    CHAT_CHANNELS_PREFIX   the key prefix (default "asgi", channels_redis's own default)
    CHAT_ENCRYPTION_KEYS   a JSON list for symmetric_encryption_keys (optional)
    CHAT_CHANNELS_BACKEND  the layer (default "channels_redis.core.RedisChannelLayer"; the tests also
                           run "channels_redis.pubsub.RedisPubSubChannelLayer")
"""

import json
import os

SECRET_KEY = "channels-net-interop-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "channels",
    "chat",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
DATABASES = {}
USE_TZ = True

_layer_config = {
    "hosts": [os.environ["CHAT_REDIS_URL"]],
    "prefix": os.environ.get("CHAT_CHANNELS_PREFIX", "asgi"),
}
if os.environ.get("CHAT_ENCRYPTION_KEYS"):
    _layer_config["symmetric_encryption_keys"] = json.loads(os.environ["CHAT_ENCRYPTION_KEYS"])

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": os.environ.get("CHAT_CHANNELS_BACKEND", "channels_redis.core.RedisChannelLayer"),
        "CONFIG": _layer_config,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
