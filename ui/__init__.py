"""The only package that imports Qt / pyqtgraph: tray app, dashboard, wizard, break window, settings."""
