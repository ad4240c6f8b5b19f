"""The HTML door: views, forms, page config for the browser client, security headers, health."""
