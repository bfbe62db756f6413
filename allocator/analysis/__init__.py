"""Figures as data: reports, reasons, explanations, changes, capacity.

No files are read or written here and nothing is formatted for a reader.
"""
