"""Sample allocators: how many responses each prompt of a step gets.  One file each."""
