"""The WebSocket door: the consumer, socket set-up (handshakes) and origin checks."""
