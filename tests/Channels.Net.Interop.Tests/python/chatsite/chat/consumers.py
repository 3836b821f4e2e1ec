"""The tutorial's chat consumer (channels 4 docs, "Rewrite the consumer to be asynchronous").

As in Channels.Net's samples/Chat, the group is named exactly after the room and the text is
sent as is, so a Django process and a .NET process on one Redis share the rooms.
"""

from channels.generic.websocket import AsyncWebsocketConsumer


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]

        # Join room group
        await self.channel_layer.group_add(self.room, self.channel_name)

        await self.accept()

    async def disconnect(self, close_code):
        # Leave room group
        await self.channel_layer.group_discard(self.room, self.channel_name)

    # Receive message from WebSocket
    async def receive(self, text_data=None, bytes_data=None):
        # Send message to room group
        await self.channel_layer.group_send(
            self.room, {"type": "chat.message", "message": text_data}
        )

    # Receive message from room group
    async def chat_message(self, event):
        # Send message to WebSocket
        await self.send(text_data=event["message"])
