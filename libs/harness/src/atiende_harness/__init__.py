"""Atiende's measuring harness: `atiende-bench` for speed, `atiende-chaos` for faults."""
