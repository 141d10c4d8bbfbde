"""Loopback stand-ins for external services (model providers) used by the tests."""
