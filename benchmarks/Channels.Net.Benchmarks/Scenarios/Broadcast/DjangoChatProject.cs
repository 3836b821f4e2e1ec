namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The Django project <see cref="DaphneServer"/> runs, written into a temp directory: the Channels tutorial's chat
/// ("Tutorial Part 3: Rewrite Chat Server as Asynchronous") — <c>AsyncWebsocketConsumer</c> that reads
/// <c>{"message": ...}</c> from the page, <c>group_send</c>s <c>{"type": "chat.message", "message": ...}</c> to
/// <c>chat_&lt;room&gt;</c>, and sends <c>{"message": ...}</c> back; its routing and asgi.py (with
/// <c>AllowedHostsOriginValidator</c>, without the tutorial's <c>AuthMiddlewareStack</c>: it needs a database and the
/// consumer never reads the user); settings with <c>channels_redis.core.RedisChannelLayer</c> on its defaults
/// (capacity 100, expiry 60 s), only the host set. No database, no templates: nothing the WebSocket path uses.
/// </summary>
internal static class DjangoChatProject
{
    /// <summary>The room URL, as in the tutorial's routing (<c>ws/chat/(?P&lt;room_name&gt;\w+)/$</c>).</summary>
    public static string RoomPath(string room) => $"ws/chat/{room}/";

    /// <summary>Writes the project under <paramref name="directory"/> for the Redis at 127.0.0.1:<paramref name="redisPort"/>.</summary>
    public static void WriteTo(string directory, int redisPort)
    {
        foreach (var (path, text) in Files(redisPort))
        {
            var full = Path.Combine(directory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }
    }

    private static IEnumerable<(string Path, string Text)> Files(int redisPort)
    {
        yield return ("chatsite/__init__.py", "");
        yield return ("chat/__init__.py", "");
        yield return ("chatsite/urls.py", "urlpatterns = []\n");
        yield return ("chatsite/settings.py", $$"""
            SECRET_KEY = "channels-net-benchmark-only"
            DEBUG = False
            ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
            INSTALLED_APPS = ["channels", "chat"]
            ROOT_URLCONF = "chatsite.urls"
            ASGI_APPLICATION = "chatsite.asgi.application"
            DATABASES = {}
            USE_TZ = True
            CHANNEL_LAYERS = {
                "default": {
                    "BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {
                        "hosts": [("127.0.0.1", {{redisPort}})],
                    },
                },
            }

            """);
        yield return ("chatsite/asgi.py", """
            import os

            from channels.routing import ProtocolTypeRouter, URLRouter
            from channels.security.websocket import AllowedHostsOriginValidator
            from django.core.asgi import get_asgi_application

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
            # Initialize Django ASGI application early to ensure the AppRegistry
            # is populated before importing code that may import ORM models.
            django_asgi_app = get_asgi_application()

            from chat.routing import websocket_urlpatterns  # noqa: E402

            application = ProtocolTypeRouter(
                {
                    "http": django_asgi_app,
                    "websocket": AllowedHostsOriginValidator(
                        URLRouter(websocket_urlpatterns)
                    ),
                }
            )

            """);
        yield return ("chat/routing.py", """
            from django.urls import re_path

            from . import consumers

            websocket_urlpatterns = [
                re_path(r"ws/chat/(?P<room_name>\w+)/$", consumers.ChatConsumer.as_asgi()),
            ]

            """);
        yield return ("chat/consumers.py", """
            import json

            from channels.generic.websocket import AsyncWebsocketConsumer


            class ChatConsumer(AsyncWebsocketConsumer):
                async def connect(self):
                    self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
                    self.room_group_name = f"chat_{self.room_name}"

                    # Join room group
                    await self.channel_layer.group_add(self.room_group_name, self.channel_name)

                    await self.accept()

                async def disconnect(self, close_code):
                    # Leave room group
                    await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

                # Receive message from WebSocket
                async def receive(self, text_data):
                    text_data_json = json.loads(text_data)
                    message = text_data_json["message"]

                    # Send message to room group
                    await self.channel_layer.group_send(
                        self.room_group_name, {"type": "chat.message", "message": message}
                    )

                # Receive message from room group
                async def chat_message(self, event):
                    message = event["message"]

                    # Send message to WebSocket
                    await self.send(text_data=json.dumps({"message": message}))

            """);
    }
}
