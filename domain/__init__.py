"""The hazard-case domain: the HazardCase aggregate, its events, values and errors.

Pure Python: nothing here knows about HTTP, SQL or the command line.
"""
