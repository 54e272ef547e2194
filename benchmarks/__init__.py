"""Speed and memory measurements of the library and the book (scripts that print and record).

Run them with ``make benchmarks``; each module's docstring says what it measures. They are not
tests: ``tests/test_benchmarks.py`` tests how they summarise and report, not how fast anything is.
"""
