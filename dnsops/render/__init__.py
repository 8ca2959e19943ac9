"""Renderers: models in, text out. Nothing in here decides anything."""
