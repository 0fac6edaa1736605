"""The PySide6 window. Nothing below `ui` imports it."""
