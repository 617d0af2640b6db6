"""The application skeleton written by ``deepcases new NAME``: ``*.txt`` files with ``{{name}}`` placeholders."""
