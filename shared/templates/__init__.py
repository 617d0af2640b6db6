"""Template files (package data) for ``deepcases new``; see ``shared.scaffold``."""
