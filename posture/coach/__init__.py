"""Coaching: the break scheduler, routine catalogue, guided runner, safety screen and break effect.

Pure core code on an injected clock; nothing here imports Qt.
"""
