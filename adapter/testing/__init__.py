"""Testing toolkit: Cloudflare's workflow introspection API and a pytest plugin."""
