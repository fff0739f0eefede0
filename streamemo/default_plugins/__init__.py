"""The built-in plugins: ordinary plugin modules, listed in ``plugins.DEFAULT_PLUGINS``."""
