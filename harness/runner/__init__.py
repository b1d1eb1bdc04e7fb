"""The one runner both faces (CLI, pytest plugin) use."""
