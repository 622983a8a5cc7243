"""Therapies other than blinatumomab's continuous infusion, planned as data."""
