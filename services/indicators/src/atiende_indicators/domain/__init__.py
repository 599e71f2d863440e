"""Indicators' domain. Pure: no I/O here.

- projection.py: what every event adds to the read models (daily counters, facts about its case);
- kpis.py: the indicators that follow from the stored sums;
- days.py: ranges of reporting days and daily series;
- errors.py: the errors these raise.
"""
