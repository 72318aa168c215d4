"""Surgical-guide design: plan (plan.py), body, sleeves and slots (design.py), label, verification.

Coordinates are LPS millimetres throughout.
"""
