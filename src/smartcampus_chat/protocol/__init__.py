"""The WebSocket protocol: typed frames (one model per frame type) and the payloads they carry."""
