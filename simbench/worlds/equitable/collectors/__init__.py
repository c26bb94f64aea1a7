"""Data collectors of the equitable world: how many samples of each group the next batch buys.  One file each."""
