"""Downsamplers: which drawn samples train.  One file each."""
