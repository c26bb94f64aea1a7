"""Advantage estimators: how kept samples become weights of the update.  One file each."""
