"""Prompt selectors: which prompts enter a step.  One file each."""
