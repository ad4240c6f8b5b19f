"""smartcampus-chat: a reusable real-time chat app for Django campus portals."""

__version__ = "0.1.0.dev0"
