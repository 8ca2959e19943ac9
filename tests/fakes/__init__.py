"""Test-only stand-ins for services that cannot run locally."""
