"""Files of the campus portal that tests/test_host_email_portal.py builds in a temporary
directory: an e-mail login, a courses app, its own layout (docs/integration.md)."""
